//! Admin users: create, change, deactivate and delete, keeping at least one active owner.

use sqlx::PgConnection;

use crate::db::Db;
use uuid::Uuid;

use super::model::{AdminChanges, AdminUser, NewAdmin};
use crate::audit::{self, AuditActor, AuditEvent};
use crate::auth::Role;
use crate::auth::credentials::hash_password_blocking;
use crate::error::{AppError, ConstraintExt, Result};

const DUPLICATE_EMAIL: &str = "An admin with this email already exists.";

pub async fn create(db: &Db, actor: AuditActor<'_>, new: NewAdmin) -> Result<AdminUser> {
    let password_hash = hash_password_blocking(new.password).await?;
    let mut tx = db.begin().await?;
    let user = sqlx::query_as!(
        AdminUser,
        r#"
        insert into admin_users (id, email, display_name, role, password_hash)
        values ($1, $2, $3, $4, $5)
        returning id, email, display_name, role as "role: Role", active, created_at, updated_at
        "#,
        Uuid::now_v7(),
        new.email,
        new.display_name,
        new.role.as_str(),
        password_hash,
    )
    .fetch_one(&mut *tx)
    .await
    .on_constraint("admin_users_email_key", || {
        AppError::conflict("duplicate-email", DUPLICATE_EMAIL)
    })?;
    audit::record(
        &mut tx,
        actor,
        AuditEvent::new("admin_user.create", "admin_user", user.id)
            .with_details(serde_json::json!({ "email": user.email, "role": user.role })),
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

pub async fn list(db: &Db) -> Result<Vec<AdminUser>> {
    Ok(sqlx::query_as!(
        AdminUser,
        r#"select id, email, display_name, role as "role: Role", active, created_at, updated_at
           from admin_users order by email"#
    )
    .fetch_all(db)
    .await?)
}

pub async fn get(db: &Db, id: Uuid) -> Result<AdminUser> {
    sqlx::query_as!(
        AdminUser,
        r#"select id, email, display_name, role as "role: Role", active, created_at, updated_at
           from admin_users where id = $1"#,
        id
    )
    .fetch_optional(db)
    .await?
    .ok_or_else(|| not_found(id))
}

fn not_found(id: Uuid) -> AppError {
    AppError::not_found(format!("No admin user has id {id}."))
}

pub async fn update(
    db: &Db,
    actor: AuditActor<'_>,
    id: Uuid,
    changes: AdminChanges,
) -> Result<AdminUser> {
    let password_hash = match changes.password {
        Some(password) => Some(hash_password_blocking(password).await?),
        None => None,
    };
    let mut tx = db.begin().await?;
    let current = lock_owners_and_get(&mut tx, id).await?;
    let stays_owner = changes.role.unwrap_or(current.role) == Role::Owner
        && changes.active.unwrap_or(current.active);
    if !stays_owner {
        ensure_another_owner(&mut tx, &current).await?;
    }
    let user = sqlx::query_as!(
        AdminUser,
        r#"
        update admin_users set
            display_name = coalesce($2, display_name),
            role = coalesce($3, role),
            active = coalesce($4, active),
            password_hash = coalesce($5, password_hash),
            updated_at = now()
        where id = $1
        returning id, email, display_name, role as "role: Role", active, created_at, updated_at
        "#,
        id,
        changes.display_name,
        changes.role.map(Role::as_str),
        changes.active,
        password_hash,
    )
    .fetch_one(&mut *tx)
    .await?;
    if password_hash.is_some() {
        // A new password signs the admin out everywhere.
        sqlx::query!(
            "update auth_sessions set revoked_at = now() where admin_id = $1 and revoked_at is null",
            id
        )
        .execute(&mut *tx)
        .await?;
    }
    audit::record(
        &mut tx,
        actor,
        AuditEvent::new("admin_user.update", "admin_user", id).with_details(serde_json::json!({
            "role": user.role,
            "active": user.active,
            "display_name_changed": changes.display_name.is_some(),
            "password_changed": password_hash.is_some(),
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

pub async fn delete(db: &Db, actor: AuditActor<'_>, id: Uuid) -> Result<()> {
    let mut tx = db.begin().await?;
    let current = lock_owners_and_get(&mut tx, id).await?;
    ensure_another_owner(&mut tx, &current).await?;
    // A host's bookings keep their host: such an admin is deactivated, not deleted.
    sqlx::query!("delete from admin_users where id = $1", id)
        .execute(&mut *tx)
        .await
        .on_constraint("bookings_host_id_fkey", || {
            AppError::conflict(
                "host-has-bookings",
                "This admin is a host with bookings; deactivate them instead (PATCH with \"active\": false).",
            )
        })?;
    audit::record(
        &mut tx,
        actor,
        AuditEvent::new("admin_user.delete", "admin_user", id)
            .with_details(serde_json::json!({ "email": current.email })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Locks the active owners (so two concurrent demotions cannot both pass the check), then
/// reads the target.
async fn lock_owners_and_get(conn: &mut PgConnection, id: Uuid) -> Result<AdminUser> {
    sqlx::query!("select id from admin_users where role = 'owner' and active for update")
        .fetch_all(&mut *conn)
        .await?;
    sqlx::query_as!(
        AdminUser,
        r#"select id, email, display_name, role as "role: Role", active, created_at, updated_at
           from admin_users where id = $1 for update"#,
        id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| not_found(id))
}

/// Refuses to remove, demote or deactivate the last active owner.
async fn ensure_another_owner(conn: &mut PgConnection, current: &AdminUser) -> Result<()> {
    if current.role != Role::Owner || !current.active {
        return Ok(());
    }
    let others = sqlx::query_scalar!(
        r#"select count(*) as "count!" from admin_users where role = 'owner' and active and id <> $1"#,
        current.id
    )
    .fetch_one(&mut *conn)
    .await?;
    if others == 0 {
        return Err(AppError::conflict(
            "last-owner",
            "This is the last active owner; make another admin an owner first.",
        ));
    }
    Ok(())
}
