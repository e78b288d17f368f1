-- What carried each consent decision (store.ConsentSignal): banner,
-- opt_out_link, page_script, google_consent_mode, tcf or unstated; '' in
-- the records made before it was kept (they hash as record format 1).
ALTER TABLE consent_ledger ADD COLUMN signal LowCardinality(String) DEFAULT '' AFTER snippet_version;
