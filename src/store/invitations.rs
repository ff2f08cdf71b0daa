//! Team invitations: by email, single use, stored as a token hash; the address sealed.

use uuid::Uuid;

use super::pii::{Field, Pii};
use super::{Store, StoreError, Tx, on_pool, on_tx};

/// An invitation; `email_norm` is the lower-cased address (only `email` is stored, sealed).
#[derive(Debug, Clone)]
pub struct Invitation {
    pub id: Uuid,
    pub team_id: Uuid,
    pub email: String,
    pub email_norm: String,
    pub role: String,
    /// The admin who sent it, while their account exists.
    pub invited_by: Option<Uuid>,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(sqlx::FromRow)]
struct InvitationRow {
    id: Uuid,
    team_id: Uuid,
    email: String,
    email_sealed: Option<Vec<u8>>,
    role: String,
    invited_by: Option<Uuid>,
    created_at: i64,
    expires_at: i64,
}

impl InvitationRow {
    fn open(self, pii: &Pii) -> Result<Invitation, StoreError> {
        let email = pii.read_one(
            Field::InvitationEmail,
            self.id.as_bytes(),
            self.email_sealed.as_deref(),
            self.email,
        )?;
        Ok(Invitation {
            id: self.id,
            team_id: self.team_id,
            email_norm: email.to_lowercase(),
            email,
            role: self.role,
            invited_by: self.invited_by,
            created_at: self.created_at,
            expires_at: self.expires_at,
        })
    }
}

const INVITATION_COLUMNS: &str =
    "id, team_id, email, email_sealed, role, invited_by, created_at, expires_at";

impl Store {
    pub async fn pending_invitations(
        &self,
        team_id: Uuid,
        now: i64,
    ) -> Result<Vec<Invitation>, StoreError> {
        let sql = format!(
            "SELECT {INVITATION_COLUMNS} FROM team_invitations WHERE team_id = $1 AND expires_at > $2
             ORDER BY created_at, id"
        );
        let rows = on_pool!(self, p => sqlx::query_as::<_, InvitationRow>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(team_id)
            .bind(now)
            .fetch_all(p)
            .await)?;
        let pii = self.pii()?;
        rows.into_iter().map(|r| r.open(pii)).collect()
    }

    pub async fn invitation(
        &self,
        team_id: Uuid,
        id: Uuid,
    ) -> Result<Option<Invitation>, StoreError> {
        let sql = format!(
            "SELECT {INVITATION_COLUMNS} FROM team_invitations WHERE team_id = $1 AND id = $2"
        );
        let row = on_pool!(self, p => sqlx::query_as::<_, InvitationRow>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(team_id)
            .bind(id)
            .fetch_optional(p)
            .await)?;
        row.map(|r| r.open(self.pii()?)).transpose()
    }

    pub async fn invitation_by_token(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<Invitation>, StoreError> {
        let sql =
            format!("SELECT {INVITATION_COLUMNS} FROM team_invitations WHERE token_hash = $1");
        let row = on_pool!(self, p => sqlx::query_as::<_, InvitationRow>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(token_hash)
            .fetch_optional(p)
            .await)?;
        row.map(|r| r.open(self.pii()?)).transpose()
    }

    pub async fn delete_invitation(&self, team_id: Uuid, id: Uuid) -> Result<bool, StoreError> {
        let n = on_pool!(self, p => sqlx::query("DELETE FROM team_invitations WHERE team_id = $1 AND id = $2")
            .bind(team_id)
            .bind(id)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }
}

impl Tx {
    pub async fn insert_invitation(
        &mut self,
        inv: &Invitation,
        token_hash: &[u8],
        invited_by: Uuid,
    ) -> Result<(), StoreError> {
        let sealed = self.pii()?.seal(
            Field::InvitationEmail,
            inv.id.as_bytes(),
            &[inv.email.as_str()],
        );
        on_tx!(self, c => sqlx::query(
            "INSERT INTO team_invitations (id, team_id, email, email_norm, email_sealed, role, token_hash, invited_by, created_at, expires_at)
             VALUES ($1, $2, '', '', $3, $4, $5, $6, $7, $8)",
        )
        .bind(inv.id)
        .bind(inv.team_id)
        .bind(sealed)
        .bind(&inv.role)
        .bind(token_hash)
        .bind(invited_by)
        .bind(inv.created_at)
        .bind(inv.expires_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// A new link (and a new week) for an invitation; the old link stops working.
    pub async fn reissue_invitation(
        &mut self,
        id: Uuid,
        token_hash: &[u8],
        expires_at: i64,
    ) -> Result<(), StoreError> {
        on_tx!(self, c => sqlx::query("UPDATE team_invitations SET token_hash = $1, expires_at = $2 WHERE id = $3")
            .bind(token_hash)
            .bind(expires_at)
            .bind(id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Uses an invitation up: whoever deletes it first joins.
    pub async fn take_invitation(&mut self, id: Uuid) -> Result<bool, StoreError> {
        let n = on_tx!(self, c => sqlx::query("DELETE FROM team_invitations WHERE id = $1")
            .bind(id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }
}
