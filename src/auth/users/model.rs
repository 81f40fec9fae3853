//! Admin users as they are stored and as owners send them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Role;
use crate::auth::credentials::check_password;
use crate::error::Result;
use crate::validation::Validator;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdminUser {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// An inactive admin cannot log in and their tokens stop working.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new admin, validated.
pub struct NewAdmin {
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub password: String,
}

impl NewAdmin {
    pub fn validate(
        email: &str,
        display_name: Option<&str>,
        role: Option<&str>,
        password: &str,
    ) -> Result<Self> {
        let mut v = Validator::new();
        let email = v.email("email", email);
        let display_name = v
            .optional_text("display_name", display_name, 100)
            .unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_owned());
        let role = parse_role(&mut v, role);
        check_password(&mut v, "password", password);
        v.finish()?;
        Ok(Self {
            email,
            display_name,
            role: role.unwrap_or(Role::Editor),
            password: password.to_owned(),
        })
    }
}

pub fn parse_role(v: &mut Validator, role: Option<&str>) -> Option<Role> {
    let name = v.choice(
        "role",
        role.unwrap_or_default(),
        &["owner", "editor", "sales"],
    );
    Role::parse(&name)
}

/// Changes to an admin; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct AdminChanges {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    pub password: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CreateAdminRequest {
    #[schema(example = "editor@example.com")]
    email: String,
    /// Defaults to the part of the email before the @.
    display_name: Option<String>,
    /// `owner`, `editor` or `sales`.
    #[schema(example = "editor")]
    role: Option<String>,
    /// At least 12 characters.
    password: String,
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct UpdateAdminRequest {
    display_name: Option<String>,
    role: Option<String>,
    active: Option<bool>,
    /// Setting a password signs the admin out everywhere.
    password: Option<String>,
}

impl CreateAdminRequest {
    pub fn validate(&self) -> Result<NewAdmin> {
        NewAdmin::validate(
            &self.email,
            self.display_name.as_deref(),
            self.role.as_deref(),
            &self.password,
        )
    }
}

impl UpdateAdminRequest {
    pub fn validate(self) -> Result<AdminChanges> {
        let mut v = Validator::new();
        let display_name = self
            .display_name
            .as_ref()
            .map(|name| v.required_text("display_name", name, 100));
        let role = self
            .role
            .as_deref()
            .and_then(|role| parse_role(&mut v, Some(role)));
        if let Some(password) = &self.password {
            check_password(&mut v, "password", password);
        }
        v.finish()?;
        Ok(AdminChanges {
            display_name,
            role,
            active: self.active,
            password: self.password,
        })
    }
}
