-- Lead capture now writes a lead, its timeline and its outbox jobs in one statement, and
-- the service makes the lead's reference (leads::service::reference) from the same
-- sequence, so the notifications can name it before the row exists. The column's default
-- stays for now: replicas of the previous release, still serving during a rolling deploy,
-- insert without a reference. Drop it in a later release.

-- leads_inbox_idx (id desc) repeated the primary key, which Postgres scans backwards just as
-- well for the inbox's `order by id desc`; every lead paid for the extra index entry.
drop index if exists leads_inbox_idx;
