//! Assistant conversations about a person: those that led to their leads or bookings, or
//! in which the address was written. For export and erasure.

use sqlx::PgConnection;

use crate::error::Result;
use crate::personal_data::{Found, Removed, Subject};

pub async fn export(conn: &mut PgConnection, subject: &Subject) -> Result<Vec<Found>> {
    let conversations = sqlx::query_scalar!(
        r#"select jsonb_build_object('id', c.id, 'created_at', c.created_at,
                  'lead_id', c.lead_id, 'booking_id', c.booking_id,
                  'messages', coalesce((select jsonb_agg(jsonb_build_object('role', m.role,
                      'text', m.text, 'created_at', m.created_at) order by m.id)
                      from assistant_messages m where m.conversation_id = c.id), '[]'::jsonb))
                  as "conversation!"
           from assistant_conversations c
           where c.lead_id = any($1) or c.booking_id = any($2)
              or exists (select 1 from assistant_messages m
                         where m.conversation_id = c.id and m.text ~* $3)
           order by c.id"#,
        &subject.lead_ids,
        &subject.booking_ids,
        subject.pattern
    )
    .fetch_all(conn)
    .await?;
    Ok(vec![Found {
        kind: "assistant_conversations",
        records: conversations,
    }])
}

/// Deletes the conversations (their messages go with them).
pub async fn erase(conn: &mut PgConnection, subject: &Subject) -> Result<Vec<Removed>> {
    let n = sqlx::query!(
        r#"delete from assistant_conversations c
           where c.lead_id = any($1) or c.booking_id = any($2)
              or exists (select 1 from assistant_messages m
                         where m.conversation_id = c.id and m.text ~* $3)"#,
        &subject.lead_ids,
        &subject.booking_ids,
        subject.pattern
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(vec![("assistant_conversations", n)])
}
