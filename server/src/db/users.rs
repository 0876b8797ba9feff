//! Users: creation with argon2 password hashes, and sign-in checks.

use app::api::{CurrentUser, Role};
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use sea_orm::{DatabaseConnection, DbErr, FromQueryResult};

use super::sql;

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("{0}")]
    Invalid(String),
    #[error("a user with email {0} already exists")]
    Exists(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

#[derive(FromQueryResult)]
struct UserRow {
    id: i64,
    email: String,
    role: String,
    password_hash: String,
}

impl UserRow {
    fn into_user(self) -> Option<CurrentUser> {
        Some(CurrentUser {
            id: self.id,
            email: self.email,
            role: Role::parse(&self.role)?,
        })
    }
}

pub const MIN_PASSWORD_CHARS: usize = 8;

fn check_email(email: &str) -> Result<String, UserError> {
    let email = email.trim();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email.chars().any(char::is_whitespace);
    if valid {
        Ok(email.to_string())
    } else {
        Err(UserError::Invalid(format!(
            "{email:?} is not an email address"
        )))
    }
}

pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters hashes any password")
        .to_string()
}

pub async fn create_user(
    db: &DatabaseConnection,
    email: &str,
    role: Role,
    password: &str,
) -> Result<CurrentUser, UserError> {
    let email = check_email(email)?;
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(UserError::Invalid(format!(
            "password must be at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    let hash = hash_password(password);
    let row = UserRow::find_by_statement(sql(
        "INSERT INTO users (email, password_hash, role) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING RETURNING id, email, role, password_hash",
        [email.clone().into(), hash.into(), role.as_str().into()],
    ))
    .one(db)
    .await?;
    row.and_then(UserRow::into_user)
        .ok_or(UserError::Exists(email))
}

/// The user whose email and password match, if any. Takes about as long whether or not
/// the email exists, so timing does not reveal accounts.
pub async fn authenticate(
    db: &DatabaseConnection,
    email: &str,
    password: &str,
) -> Result<Option<CurrentUser>, DbErr> {
    let row = UserRow::find_by_statement(sql(
        "SELECT id, email, role, password_hash FROM users WHERE lower(email) = lower($1)",
        [email.trim().to_string().into()],
    ))
    .one(db)
    .await?;
    let stored = row
        .as_ref()
        .map(|r| r.password_hash.clone())
        .unwrap_or_else(|| dummy_hash().to_string());
    let password = password.to_string();
    let ok = off_the_executor(move || {
        PasswordHash::new(&stored)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false);
    Ok(row.filter(|_| ok).and_then(UserRow::into_user))
}

/// Password hashes run on the blocking pool, at most two at a time: a flood of sign-ins
/// queues here instead of stalling the executor that carries worker heartbeats and SSE.
async fn off_the_executor<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    static HASHING: std::sync::OnceLock<std::sync::Arc<tokio::sync::Semaphore>> =
        std::sync::OnceLock::new();
    let hashing = HASHING.get_or_init(|| std::sync::Arc::new(tokio::sync::Semaphore::new(2)));
    // The permit travels with the hash: a sign-in abandoned mid-hash still holds its slot
    // until the hash ends.
    let permit = hashing.clone().acquire_owned().await.ok()?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    })
    .await
    .ok()
}

fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("not-a-real-password"))
}

pub async fn find_user(db: &DatabaseConnection, id: i64) -> Result<Option<CurrentUser>, DbErr> {
    Ok(UserRow::find_by_statement(sql(
        "SELECT id, email, role, password_hash FROM users WHERE id = $1",
        [id.into()],
    ))
    .one(db)
    .await?
    .and_then(UserRow::into_user))
}

pub async fn find_by_email(
    db: &DatabaseConnection,
    email: &str,
) -> Result<Option<CurrentUser>, DbErr> {
    Ok(UserRow::find_by_statement(sql(
        "SELECT id, email, role, password_hash FROM users WHERE lower(email) = lower($1)",
        [email.trim().into()],
    ))
    .one(db)
    .await?
    .and_then(UserRow::into_user))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked() {
        assert!(check_email("owner@toko.id").is_ok());
        assert!(check_email("not-an-email").is_err());
        assert!(check_email("a@b").is_err());
        assert!(check_email("a b@c.id").is_err());
    }
}
