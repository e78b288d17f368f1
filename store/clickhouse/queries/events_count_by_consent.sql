SELECT count() FROM events FINAL WHERE consent_id = toUUID(?);
