-- The on-site assistant: conversations (what each remembers between messages, and the lead
-- or booking it led to) and their messages. Conversations expire; expired ones are deleted
-- a week later by housekeeping.

create table assistant_conversations (
    id         uuid primary key,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    expires_at timestamptz not null,
    state      jsonb not null default '{}',
    client_ip  inet,
    -- Set while a message is being answered, so the next waits for it (lapses by itself);
    -- the token says who holds it, so only the holder saves the state or frees it.
    busy_until timestamptz,
    busy_token uuid,
    lead_id    uuid references leads (id) on delete set null,
    booking_id uuid references bookings (id) on delete set null
);
create index assistant_conversations_expires_idx on assistant_conversations (expires_at);
create index assistant_conversations_led_idx on assistant_conversations (id desc)
    where lead_id is not null or booking_id is not null;
create index assistant_conversations_lead_idx on assistant_conversations (lead_id) where lead_id is not null;
create index assistant_conversations_booking_idx on assistant_conversations (booking_id) where booking_id is not null;

create table assistant_messages (
    id              uuid primary key,
    conversation_id uuid not null references assistant_conversations (id) on delete cascade,
    role            text not null constraint assistant_messages_role_check check (role in ('visitor', 'assistant')),
    text            text not null,
    parts           jsonb not null default '[]',
    created_at      timestamptz not null default now()
);
create index assistant_messages_conversation_idx on assistant_messages (conversation_id, id);
