-- Who filed a document and when (issue 19: filing an Update Record
-- records who filed it; an auto-filed one names the practice setting).
ALTER TABLE receiver_documents ADD COLUMN filed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE receiver_documents ADD COLUMN filed_at BIGINT NOT NULL DEFAULT 0;
