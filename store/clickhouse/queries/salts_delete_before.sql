ALTER TABLE salts DELETE WHERE day < toDate(?);
