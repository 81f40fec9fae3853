-- The statements POST /v1/consultations sends on the production path (src/leads/service.rs:
-- `capture_guarded`), with the same shapes of data, for pgbench: the database's ceiling for
-- frontdesk's own lead capture. One transaction: the per-IP counter (src/rate_limit.rs),
-- the Idempotency-Key (src/idempotency.rs), the read (`context`), the one statement that
-- writes the lead, its timeline entry and its outbox jobs (`write_lead`), and the stored
-- answer. Each transaction comes from another client address with a new key, as in the
-- HTTP load (the scope's colon is chr(58): pgbench would read ":consultation" as a
-- variable). Ids are time-ordered like the service's UUIDv7 (Postgres 15 has no uuidv7()).
\set n random(1, 16000000)
\set k random(1, 1000000000)
begin;
insert into rate_limit_counters (bucket, window_start, hits)
values ('consultation:10.' || (:n::int / 65536 % 256) || '.' || (:n::int / 256 % 256) || '.' || (:n::int % 256), to_timestamp(floor(extract(epoch from now()) / 600) * 600), 1)
on conflict (bucket, window_start) do update set hits = rate_limit_counters.hits + 1
returning hits;
insert into idempotency_keys (scope, key, request_hash)
values ('lead' || chr(58) || 'consultation@10.' || (:n::int / 65536 % 256) || '.' || (:n::int / 256 % 256) || '.' || (:n::int % 256), 'bench-' || :client_id::text || '-' || :k::text, '\x8c3b1e0e4d5f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d')
on conflict do nothing returning true as claimed;
select (select firm_name from site_identity) as firm_name,
       (select contact_email from site_identity) as contact_email,
       array(select slug from published_services where slug = any('{web-platforms}'::text[])) as known,
       array(select endpoint_id from webhook_subscriptions where event = 'lead.created') as endpoints,
       nextval('lead_reference_seq') as number \gset
with lead as (
    insert into leads (id, reference, kind, status, name, first_name, last_name, email,
                       phone, company, message, services, project_type, budget_range,
                       timeline, consent_text_version, consented_at, source_page, utm,
                       client_ip, created_at, updated_at)
    values ((lpad(to_hex((extract(epoch from clock_timestamp()) * 1000)::bigint), 12, '0') || '7' || substr(md5(random()::text), 1, 19))::uuid, 'FD-2026-' || lpad(:number::text, 6, '0'), 'consultation', 'new',
            'Ada Lovelace', 'Ada', 'Lovelace', 'ada@example.com', null, null,
            'We would like a new customer portal.', '{web-platforms}', null, null, null,
            'current', now(), '/contact', '{}', ('10.' || (:n::int / 65536 % 256) || '.' || (:n::int / 256 % 256) || '.' || (:n::int % 256))::inet, now(), now())
    returning id
), jobs as (
    insert into outbox_jobs (id, kind, payload, max_attempts)
    select (lpad(to_hex((extract(epoch from clock_timestamp()) * 1000)::bigint), 12, '0') || '7' || substr(md5(random()::text), 1, 19))::uuid, 'email', payload, 8
    from unnest(array[
        '{"to": "hello@northwind.example", "text": "Reference: FD-2026-027609\nName: Ada Lovelace\nEmail: ada@example.com\nFrom page: /contact\nServices: web-platforms\n\nWe would like a new customer portal.\n", "purpose": "lead_notification", "subject": "New consultation request: Ada Lovelace (FD-2026-027609)"}',
        '{"to": "ada@example.com", "text": "Hello Ada,\n\nThank you for your consultation request. We read every request and will reply within one business day.\n\nYour reference is FD-2026-027609; quote it if you write to us about this.\n\n— Northwind Software\n", "purpose": "lead_confirmation", "subject": "We received your consultation request (FD-2026-027609)"}'
    ]::jsonb[]) as payload
)
insert into lead_events (id, lead_id, actor_label, kind, details)
select (lpad(to_hex((extract(epoch from clock_timestamp()) * 1000)::bigint), 12, '0') || '7' || substr(md5(random()::text), 1, 19))::uuid, id, 'visitor', 'created', '{"spam": false, "source_page": "/contact"}' from lead;
update idempotency_keys set status = 201,
       response = '{"kind": "consultation", "reference": "FD-2026-027609", "received_at": "2026-12-02T06:00:00.123456Z"}',
       email_hash = '\x2d3f1c0e4d5f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d'
where scope = 'lead' || chr(58) || 'consultation@10.' || (:n::int / 65536 % 256) || '.' || (:n::int / 256 % 256) || '.' || (:n::int % 256) and key = 'bench-' || :client_id::text || '-' || :k::text;
commit;
