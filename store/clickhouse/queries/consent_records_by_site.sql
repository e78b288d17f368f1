SELECT site_id, chain_id, seq, consent_id, ts, action, granted, policy_version,
       banner_hash, language, gpc, dnt, snippet_version, signal, prev_hash, hash
FROM consent_ledger
WHERE site_id = ? AND ts >= ? AND ts < ?
ORDER BY ts, toString(chain_id), seq;
