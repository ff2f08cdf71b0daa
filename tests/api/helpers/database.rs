//! The test's database behind the server's back: PostgreSQL databases made per test, and SQL
//! run on (or text read out of) the database a server uses.

use super::TestApp;

/// Creates `lk_test_<uuid>` next to the database in `admin_url` and returns its URL.
pub async fn fresh_postgres_database(admin_url: &str) -> String {
    create_postgres_database(admin_url, None).await
}

/// A new database with every migration applied, copied from a template that this test process
/// migrates once: a copy is one statement, where migrating is a dozen transactions per test.
/// The server still runs its migrations at start; they find nothing left to do.
pub async fn migrated_postgres_database(admin_url: &str) -> String {
    static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    let template = TEMPLATE
        .get_or_init(|| async {
            let url = create_postgres_database(admin_url, None).await;
            let store = latchkey::store::Store::open_postgres(&url, 1)
                .await
                .expect("open the template database");
            store
                .migrate()
                .await
                .expect("migrate the template database");
            store.close().await;
            let (_, name) = url.rsplit_once('/').expect("URL has a database name");
            name.split('?').next().unwrap_or(name).to_owned()
        })
        .await;
    create_postgres_database(admin_url, Some(template)).await
}

async fn create_postgres_database(admin_url: &str, template: Option<&str>) -> String {
    use sqlx::Connection;
    let name = format!("lk_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("LATCHKEY_TEST_DATABASE_URL is reachable");
    let sql = match template {
        Some(template) => format!("CREATE DATABASE {name} TEMPLATE {template}"),
        None => format!("CREATE DATABASE {name}"),
    };
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let (base, query) = admin_url
        .split_once('?')
        .map_or((admin_url, None), |(b, q)| (b, Some(q)));
    let (server, _db) = base.rsplit_once('/').expect("URL has a database name");
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

impl TestApp {
    /// Runs `sql` on this server's database behind the store's back, to move a row's clock
    /// (there is no clock seam). The store caches a looked-up session for up to 30 s
    /// (`src/store/cache.rs`), so edit a session's row before its token is first used.
    pub async fn execute_sql(&self, sql: &str) {
        use sqlx::Connection;
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        if let Some(url) = self
            .database_url
            .as_deref()
            .filter(|_| self.engine == "postgres")
        {
            let mut db = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::raw_sql(sql).execute(&mut db).await.unwrap();
        } else {
            let path = self.dir.path().join("data/latchkey.db");
            let mut db = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
            sqlx::raw_sql(sql).execute(&mut db).await.unwrap();
        }
    }

    /// The single text value `sql` selects from this server's database, read behind the
    /// store's back as `execute_sql` writes.
    pub async fn query_text(&self, sql: &str) -> String {
        use sqlx::Connection;
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        if let Some(url) = self
            .database_url
            .as_deref()
            .filter(|_| self.engine == "postgres")
        {
            let mut db = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut db).await.unwrap()
        } else {
            let path = self.dir.path().join("data/latchkey.db");
            let mut db = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
            sqlx::query_scalar(sql).fetch_one(&mut db).await.unwrap()
        }
    }

    /// Everything in this server's SQLite files, the write-ahead log included, as text: what a
    /// copy of the database would give away.
    pub fn database_files_text(&self) -> String {
        let mut bytes = Vec::new();
        for entry in std::fs::read_dir(self.dir.path().join("data")).unwrap() {
            let path = entry.unwrap().path();
            if path.to_string_lossy().contains("latchkey.db") {
                bytes.extend(std::fs::read(path).unwrap());
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// What a copy of the database gives away, as text: on SQLite the files themselves
    /// (`database_files_text`); on PostgreSQL, where the files are the server's, every row of
    /// every table (`database_to_xml`, with byte columns in base64).
    pub async fn stored_text(&self) -> String {
        if self.engine == "postgres" {
            self.query_text("SELECT CAST(database_to_xml(true, false, '') AS TEXT)")
                .await
        } else {
            self.database_files_text()
        }
    }
}
