//! Turning a named constraint violation into a client error in one place.

/// `.on_constraint("users_tenant_id_email_key", |_| ApiError::conflict(..))`
pub trait OnConstraint<T> {
    fn on_constraint<E>(
        self,
        name: &str,
        f: impl FnOnce(Box<dyn sqlx::error::DatabaseError>) -> E,
    ) -> Result<T, E>
    where
        E: From<sqlx::Error>;
}

impl<T> OnConstraint<T> for Result<T, sqlx::Error> {
    fn on_constraint<E>(
        self,
        name: &str,
        f: impl FnOnce(Box<dyn sqlx::error::DatabaseError>) -> E,
    ) -> Result<T, E>
    where
        E: From<sqlx::Error>,
    {
        self.map_err(|e| match e {
            sqlx::Error::Database(db) if db.constraint() == Some(name) => f(db),
            other => E::from(other),
        })
    }
}
