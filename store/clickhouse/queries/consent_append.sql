INSERT INTO consent_ledger (
    site_id, chain_id, seq, consent_id, ts, action, granted, policy_version,
    banner_hash, language, gpc, dnt, snippet_version, signal, prev_hash, hash
);
