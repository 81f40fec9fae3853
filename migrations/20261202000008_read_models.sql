-- Read models: what a capability publishes of its tables for others to read in their own
-- statements (where one round trip matters), so that no capability reads another's tables.
-- Each view belongs to the capability that owns the table under it; changing the table
-- means keeping its view's columns.

-- admin_users (auth): the staff others name (hosts, assignees).
create view staff_directory as
    select id, display_name, email, role, active from admin_users;

-- site_profile (site): the firm's name and contact address.
create view site_identity as
    select firm_name, contact_email, public_url from site_profile;

-- catalogue_services (catalogue): what is published, by slug.
create view published_services as
    select slug, title from catalogue_services where published;

-- webhook_endpoints (webhooks): who is subscribed to what.
create view webhook_subscriptions as
    select id as endpoint_id, unnest(events) as event from webhook_endpoints where active;
