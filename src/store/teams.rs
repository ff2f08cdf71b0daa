//! Teams, their members and join requests (invitations are in `invitations.rs`).

use uuid::Uuid;

use super::pii::{Field, Pii};
use super::users::UserRow;
use super::{Store, StoreError, Tx, User, classify, on_pool, on_tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Team {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub discovery_domain: Option<String>,
    pub join_policy: String,
    /// Admins must have 2FA on to act as admins.
    pub require_2fa: bool,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TeamWithRole {
    #[sqlx(flatten)]
    pub team: Team,
    pub role: String,
}

#[derive(Debug, Clone)]
pub struct Member {
    pub user_id: Uuid,
    pub username: String,
    pub name: String,
    pub role: String,
    pub joined_at: i64,
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    user_id: Uuid,
    username: String,
    name: String,
    name_sealed: Option<Vec<u8>>,
    role: String,
    joined_at: i64,
}

impl MemberRow {
    fn open(self, pii: &Pii) -> Result<Member, StoreError> {
        Ok(Member {
            name: pii.read_one(
                Field::UserName,
                self.user_id.as_bytes(),
                self.name_sealed.as_deref(),
                self.name,
            )?,
            user_id: self.user_id,
            username: self.username,
            role: self.role,
            joined_at: self.joined_at,
        })
    }
}

const TEAM_COLUMNS: &str =
    "t.id, t.slug, t.name, t.discovery_domain, t.join_policy, t.require_2fa, t.created_at";

impl Store {
    pub async fn team_by_slug(&self, slug: &str) -> Result<Option<Team>, StoreError> {
        let sql = format!("SELECT {TEAM_COLUMNS} FROM teams t WHERE t.slug = $1");
        Ok(
            on_pool!(self, p => sqlx::query_as::<_, Team>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(slug)
            .fetch_optional(p)
            .await)?,
        )
    }

    pub async fn team_by_id(&self, id: Uuid) -> Result<Option<Team>, StoreError> {
        let sql = format!("SELECT {TEAM_COLUMNS} FROM teams t WHERE t.id = $1");
        Ok(
            on_pool!(self, p => sqlx::query_as::<_, Team>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(id)
            .fetch_optional(p)
            .await)?,
        )
    }

    pub async fn role_in(
        &self,
        team_id: Uuid,
        user_id: Uuid,
    ) -> Result<Option<String>, StoreError> {
        Ok(on_pool!(self, p => sqlx::query_scalar::<_, String>(
            "SELECT role FROM team_members WHERE team_id = $1 AND user_id = $2",
        )
        .bind(team_id)
        .bind(user_id)
        .fetch_optional(p)
        .await)?)
    }

    pub async fn teams_of(&self, user_id: Uuid) -> Result<Vec<TeamWithRole>, StoreError> {
        let sql = format!(
            "SELECT {TEAM_COLUMNS}, m.role FROM teams t JOIN team_members m ON m.team_id = t.id
             WHERE m.user_id = $1 ORDER BY t.name, t.slug"
        );
        Ok(
            on_pool!(self, p => sqlx::query_as::<_, TeamWithRole>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(user_id)
            .fetch_all(p)
            .await)?,
        )
    }

    /// Teams discoverable by `domain` that `user_id` is not in yet.
    pub async fn discoverable(&self, domain: &str, user_id: Uuid) -> Result<Vec<Team>, StoreError> {
        let sql = format!(
            "SELECT {TEAM_COLUMNS} FROM teams t WHERE t.discovery_domain = $1
               AND NOT EXISTS (SELECT 1 FROM team_members m WHERE m.team_id = t.id AND m.user_id = $2)
             ORDER BY t.name, t.slug"
        );
        Ok(
            on_pool!(self, p => sqlx::query_as::<_, Team>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(domain)
            .bind(user_id)
            .fetch_all(p)
            .await)?,
        )
    }

    /// Saves the team's settings (everything but its slug and creation time).
    pub async fn update_team(&self, team: &Team) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query(
            "UPDATE teams SET name = $1, discovery_domain = $2, join_policy = $3, require_2fa = $4
             WHERE id = $5",
        )
        .bind(&team.name)
        .bind(team.discovery_domain.as_deref())
        .bind(&team.join_policy)
        .bind(team.require_2fa)
        .bind(team.id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn delete_team(&self, id: Uuid) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query("DELETE FROM teams WHERE id = $1")
            .bind(id)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn members(&self, team_id: Uuid) -> Result<Vec<Member>, StoreError> {
        let rows = on_pool!(self, p => sqlx::query_as::<_, MemberRow>(
            "SELECT m.user_id, u.username, u.name, u.name_sealed, m.role, m.joined_at
             FROM team_members m JOIN users u ON u.id = m.user_id
             WHERE m.team_id = $1 ORDER BY u.username_norm",
        )
        .bind(team_id)
        .fetch_all(p)
        .await)?;
        let pii = self.pii()?;
        rows.into_iter().map(|r| r.open(pii)).collect()
    }

    /// The accounts holding `role` in the team, for notices.
    pub async fn members_with_role(
        &self,
        team_id: Uuid,
        role: &str,
    ) -> Result<Vec<User>, StoreError> {
        let sql = format!(
            "SELECT {} FROM users WHERE id IN (SELECT user_id FROM team_members WHERE team_id = $1 AND role = $2)",
            super::users::USER_COLUMNS
        );
        let rows = on_pool!(self, p => sqlx::query_as::<_, UserRow>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(team_id)
            .bind(role)
            .fetch_all(p)
            .await)?;
        self.open_users(rows)
    }

    pub async fn add_join_request(
        &self,
        team_id: Uuid,
        user_id: Uuid,
        now: i64,
    ) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query(
            "INSERT INTO team_join_requests (team_id, user_id, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (team_id, user_id) DO NOTHING",
        )
        .bind(team_id)
        .bind(user_id)
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn join_requests(&self, team_id: Uuid) -> Result<Vec<Member>, StoreError> {
        let rows = on_pool!(self, p => sqlx::query_as::<_, MemberRow>(
            "SELECT r.user_id, u.username, u.name, u.name_sealed, 'requested' AS role, r.created_at AS joined_at
             FROM team_join_requests r JOIN users u ON u.id = r.user_id
             WHERE r.team_id = $1 ORDER BY r.created_at",
        )
        .bind(team_id)
        .fetch_all(p)
        .await)?;
        let pii = self.pii()?;
        rows.into_iter().map(|r| r.open(pii)).collect()
    }
}

impl Tx {
    pub async fn insert_team(&mut self, team: &Team) -> Result<(), StoreError> {
        on_tx!(self, c => sqlx::query(
            "INSERT INTO teams (id, slug, name, join_policy, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(team.id)
        .bind(&team.slug)
        .bind(&team.name)
        .bind(&team.join_policy)
        .bind(team.created_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))
        .map_err(classify)?;
        Ok(())
    }

    /// Adds a member; false if they already were one.
    pub async fn add_member(
        &mut self,
        team_id: Uuid,
        user_id: Uuid,
        role: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = on_tx!(self, c => sqlx::query(
            "INSERT INTO team_members (team_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (team_id, user_id) DO NOTHING",
        )
        .bind(team_id)
        .bind(user_id)
        .bind(role)
        .bind(now)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Serialises changes to a team's roster, so two admins cannot both step down at once and
    /// leave it with none. A write first: PostgreSQL locks the row, and SQLite takes its write
    /// lock now rather than failing the transaction when it upgrades from reading later.
    pub async fn lock_team(&mut self, team_id: Uuid) -> Result<(), StoreError> {
        on_tx!(self, c => sqlx::query("UPDATE teams SET id = id WHERE id = $1")
            .bind(team_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn admin_count(&mut self, team_id: Uuid) -> Result<i64, StoreError> {
        Ok(on_tx!(self, c => sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM team_members WHERE team_id = $1 AND role = 'admin'",
        )
        .bind(team_id)
        .fetch_one(c)
        .await)?)
    }

    pub async fn set_member_role(
        &mut self,
        team_id: Uuid,
        user_id: Uuid,
        role: &str,
    ) -> Result<bool, StoreError> {
        let n = on_tx!(self, c => sqlx::query("UPDATE team_members SET role = $1 WHERE team_id = $2 AND user_id = $3")
            .bind(role)
            .bind(team_id)
            .bind(user_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    pub async fn remove_member(
        &mut self,
        team_id: Uuid,
        user_id: Uuid,
    ) -> Result<bool, StoreError> {
        let n = on_tx!(self, c => sqlx::query("DELETE FROM team_members WHERE team_id = $1 AND user_id = $2")
            .bind(team_id)
            .bind(user_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    pub async fn delete_join_request(
        &mut self,
        team_id: Uuid,
        user_id: Uuid,
    ) -> Result<bool, StoreError> {
        let n = on_tx!(self, c => sqlx::query("DELETE FROM team_join_requests WHERE team_id = $1 AND user_id = $2")
            .bind(team_id)
            .bind(user_id)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }
}
