-- A held document matched by hand keeps the demographics its message
-- carried and records the register patient a person chose, who and when.
ALTER TABLE receiver_documents ADD COLUMN matched_nhs_number TEXT NOT NULL DEFAULT '';
ALTER TABLE receiver_documents ADD COLUMN matched_birth_date TEXT NOT NULL DEFAULT '';
ALTER TABLE receiver_documents ADD COLUMN matched_family TEXT NOT NULL DEFAULT '';
ALTER TABLE receiver_documents ADD COLUMN matched_given TEXT NOT NULL DEFAULT '';
ALTER TABLE receiver_documents ADD COLUMN matched_by TEXT NOT NULL DEFAULT '';
ALTER TABLE receiver_documents ADD COLUMN matched_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX receiver_documents_matched_nhs ON receiver_documents (matched_nhs_number) WHERE matched_nhs_number <> '';
-- Staff search the register by family name and date of birth.
CREATE INDEX receiver_patients_birth_date ON receiver_patients (birth_date);
