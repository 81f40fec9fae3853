-- The two statements POST /v1/consultations runs (src/leads/service.rs: `context`, then
-- `write_lead`), with the same shapes of data, for pgbench: the database's ceiling for
-- frontdesk's own lead capture, as opposed to a single-row insert. Ids are time-ordered
-- like the service's UUIDv7 (Postgres 15 has no uuidv7()), and the reference is made from
-- the sequence number the first statement reads, as the service does.
select (select firm_name from site_profile) as firm_name,
       (select contact_email from site_profile) as contact_email,
       array(select slug from catalogue_services where published and slug = any('{web-platforms}'::text[])) as known,
       array(select id from webhook_endpoints where active and 'lead.created' = any(events)) as endpoints,
       nextval('lead_reference_seq') as number \gset
with lead as (
    insert into leads (id, reference, kind, status, name, first_name, last_name, email,
                       phone, company, message, services, project_type, budget_range,
                       timeline, consent_text_version, consented_at, source_page, utm,
                       client_ip, created_at, updated_at)
    values ((lpad(to_hex((extract(epoch from clock_timestamp()) * 1000)::bigint), 12, '0') || '7' || substr(md5(random()::text), 1, 19))::uuid, 'FD-2026-' || lpad(:number::text, 6, '0'), 'consultation', 'new',
            'Ada Lovelace', 'Ada', 'Lovelace', 'ada@example.com', null, null,
            'We would like a new customer portal.', '{web-platforms}', null, null, null,
            'current', now(), '/contact', '{}', '127.0.0.1', now(), now())
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
