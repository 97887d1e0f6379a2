-- Claims take the oldest claimable rows. With next_attempt_at inside the
-- index, a claim had to read and sort every pending row before taking its
-- batch, so claiming cost grew with the backlog. Indexes in id order let a
-- claim stop after its batch (retry times and leases are checked on the way).
DROP INDEX receiver_messages_claim;
DROP INDEX receiver_acks_unsent;
CREATE INDEX receiver_messages_claim ON receiver_messages (state, id);
CREATE INDEX receiver_acks_unsent ON receiver_acks (sent_at, id);
