-- Lead capture now writes a lead, its timeline and its outbox jobs in one statement.
--
-- The reference is made by the service (leads::service::reference) from the same sequence,
-- so the lead's notifications can name it before the row exists. The old default also cut
-- numbers past 999999 to six digits (lpad), which would have collided.
alter table leads alter column reference drop default;

-- leads_inbox_idx (id desc) repeated the primary key, which Postgres scans backwards just as
-- well for the inbox's `order by id desc`; every lead paid for the extra index entry.
drop index if exists leads_inbox_idx;
