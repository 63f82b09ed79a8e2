//! The SQLite and PostgreSQL migrations give the same schema: tables, columns (name, kind of
//! type, nullability), primary keys, unique and other indexes (partial or not), foreign keys
//! and the number of CHECK constraints per table. A migration written for one backend and
//! forgotten, or written differently, for the other fails here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;

use common::{Backend, TestDb};
use permitseal_server::storage::Db;

/// One fact about the schema, comparable across backends.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Fact {
    /// (table, column, type kind, not null)
    Column(String, String, &'static str, bool),
    /// (table, key columns in order)
    PrimaryKey(String, String),
    /// (table, columns in order, unique, partial) of an index other than the primary key.
    Index(String, String, bool, bool),
    /// (table, column, referenced table, referenced column)
    ForeignKey(String, String, String, String),
    /// (table, number of CHECK constraints)
    Checks(String, usize),
}

/// The kind of a declared type: the backends spell the same storage differently.
fn kind(declared: &str) -> &'static str {
    let t = declared.to_ascii_lowercase();
    if t.contains("int") {
        "integer"
    } else if t.contains("text") || t.contains("char") {
        "text"
    } else if t.contains("blob") || t.contains("bytea") {
        "bytes"
    } else if t.contains("real") || t.contains("double") || t.contains("float") {
        "real"
    } else if t.contains("bool") {
        "boolean"
    } else {
        panic!("a column type this test does not know: {declared}")
    }
}

fn is_ours(table: &str) -> bool {
    !table.starts_with("_sqlx") && !table.starts_with("sqlite_")
}

async fn sqlite_schema(pool: &sqlx::SqlitePool) -> BTreeSet<Fact> {
    let mut facts = BTreeSet::new();
    let tables: Vec<(String, String)> =
        sqlx::query_as("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
            .fetch_all(pool)
            .await
            .unwrap();
    for (table, sql) in tables.into_iter().filter(|(t, _)| is_ours(t)) {
        let columns: Vec<(i64, String, String, i64, Option<String>, i64)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("PRAGMA table_info({table})")))
                .fetch_all(pool)
                .await
                .unwrap();
        let mut pk: Vec<(i64, String)> = vec![];
        for (_, name, declared, notnull, _, pk_pos) in &columns {
            // A primary key column is never null, whether or not it says so.
            let not_null = *notnull == 1 || *pk_pos > 0;
            facts.insert(Fact::Column(
                table.clone(),
                name.clone(),
                kind(declared),
                not_null,
            ));
            if *pk_pos > 0 {
                pk.push((*pk_pos, name.clone()));
            }
        }
        pk.sort();
        let pk: Vec<String> = pk.into_iter().map(|(_, n)| n).collect();
        if !pk.is_empty() {
            facts.insert(Fact::PrimaryKey(table.clone(), pk.join(",")));
        }
        let indexes: Vec<(i64, String, i64, String, i64)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("PRAGMA index_list({table})")))
                .fetch_all(pool)
                .await
                .unwrap();
        for (_, index, unique, origin, partial) in indexes {
            if origin == "pk" {
                continue;
            }
            let cols: Vec<(i64, i64, Option<String>)> =
                sqlx::query_as(sqlx::AssertSqlSafe(format!("PRAGMA index_info({index})")))
                    .fetch_all(pool)
                    .await
                    .unwrap();
            let cols: Vec<String> = cols
                .into_iter()
                .map(|(_, _, n)| n.expect("indexes on columns only"))
                .collect();
            facts.insert(Fact::Index(
                table.clone(),
                cols.join(","),
                unique == 1,
                partial == 1,
            ));
        }
        let fks: Vec<(i64, i64, String, String, Option<String>)> = sqlx::query_as(
            sqlx::AssertSqlSafe(format!(
                "SELECT id, seq, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list('{table}')"
            )),
        )
        .fetch_all(pool)
        .await
        .unwrap();
        for (_, _, other, from, to) in fks {
            let to = match to {
                Some(to) => to,
                // A reference without a column names the other table's primary key.
                None => {
                    let (name,): (String,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                        "SELECT name FROM pragma_table_info('{other}') WHERE pk = 1"
                    )))
                    .fetch_one(pool)
                    .await
                    .unwrap();
                    name
                }
            };
            facts.insert(Fact::ForeignKey(table.clone(), from, other, to));
        }
        let checks = sql.to_ascii_uppercase().matches("CHECK (").count()
            + sql.to_ascii_uppercase().matches("CHECK(").count();
        facts.insert(Fact::Checks(table, checks));
    }
    facts
}

async fn postgres_schema(pool: &sqlx::PgPool) -> BTreeSet<Fact> {
    let mut facts = BTreeSet::new();
    let columns: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text \
         FROM information_schema.columns WHERE table_schema = 'public'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut tables = BTreeSet::new();
    for (table, column, declared, nullable) in columns {
        if !is_ours(&table) {
            continue;
        }
        tables.insert(table.clone());
        facts.insert(Fact::Column(
            table,
            column,
            kind(&declared),
            nullable == "NO",
        ));
    }
    let indexes: Vec<(String, bool, bool, bool, String)> = sqlx::query_as(
        "SELECT t.relname::text, ix.indisunique, ix.indisprimary, ix.indpred IS NOT NULL, \
           array_to_string(array(SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY \
             AS k(attnum, ord) JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
             ORDER BY k.ord), ',') \
         FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = 'public'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (table, unique, primary, partial, cols) in indexes {
        if !is_ours(&table) {
            continue;
        }
        if primary {
            facts.insert(Fact::PrimaryKey(table, cols));
        } else {
            facts.insert(Fact::Index(table, cols, unique, partial));
        }
    }
    let fks: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT cl.relname::text, a.attname::text, fcl.relname::text, fa.attname::text \
         FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid \
         JOIN pg_class fcl ON fcl.oid = c.confrelid \
         CROSS JOIN LATERAL unnest(c.conkey, c.confkey) AS k(col, fcol) \
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.col \
         JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = k.fcol \
         JOIN pg_namespace n ON n.oid = cl.relnamespace \
         WHERE c.contype = 'f' AND n.nspname = 'public'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for (table, from, other, to) in fks {
        facts.insert(Fact::ForeignKey(table, from, other, to));
    }
    let checks: Vec<(String, i64)> = sqlx::query_as(
        "SELECT cl.relname::text, COUNT(*) FROM pg_constraint c \
         JOIN pg_class cl ON cl.oid = c.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace \
         WHERE c.contype = 'c' AND n.nspname = 'public' GROUP BY cl.relname",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for table in tables {
        let n = checks
            .iter()
            .find(|(t, _)| *t == table)
            .map_or(0, |(_, n)| usize::try_from(*n).unwrap());
        facts.insert(Fact::Checks(table, n));
    }
    facts
}

#[tokio::test]
async fn sqlite_and_postgres_migrations_give_the_same_schema() {
    let lite_db = TestDb::create(Backend::Sqlite).await;
    let pg_db = TestDb::create(Backend::Postgres).await;
    let lite = Db::open(&lite_db.target).await.unwrap();
    let pg = Db::open(&pg_db.target).await.unwrap();
    let (Db::Sqlite { read, .. }, Db::Postgres(pool)) = (&lite, &pg) else {
        panic!("backends out of order");
    };
    let lite_facts = sqlite_schema(read).await;
    let pg_facts = postgres_schema(pool).await;
    assert!(
        lite_facts
            .iter()
            .any(|f| matches!(f, Fact::Column(t, c, _, _) if t == "permits" && c == "state")),
        "the introspection found the schema"
    );
    for facts in [&lite_facts, &pg_facts] {
        assert!(facts.contains(&Fact::Index(
            "permits".into(),
            "authority_id,number_key".into(),
            true,
            false
        )));
        assert!(
            facts
                .iter()
                .any(|f| matches!(f, Fact::ForeignKey(t, ..) if t == "permits"))
        );
        assert!(
            facts
                .iter()
                .any(|f| matches!(f, Fact::Checks(t, n) if t == "permits" && *n > 0))
        );
        assert!(
            facts
                .iter()
                .any(|f| matches!(f, Fact::Index(_, _, true, true))),
            "partial"
        );
    }
    let only_lite: Vec<&Fact> = lite_facts.difference(&pg_facts).collect();
    let only_pg: Vec<&Fact> = pg_facts.difference(&lite_facts).collect();
    assert!(
        only_lite.is_empty() && only_pg.is_empty(),
        "schemas differ\n  only in SQLite: {only_lite:#?}\n  only in PostgreSQL: {only_pg:#?}"
    );
    lite.close().await;
    pg.close().await;
}

/// The migrations up to (not including) `version`, for a database as an older release left it.
async fn migrator_before(backend: &str, version: i64) -> sqlx::migrate::Migrator {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut migrator = sqlx::migrate::Migrator::new(dir).await.unwrap();
    let older: Vec<_> = migrator
        .migrations
        .iter()
        .filter(|m| m.version < version)
        .cloned()
        .collect();
    migrator.migrations = older.into();
    migrator
}

/// Rows of an older release: an authority, an issuer and an officer token, the officer's bound
/// device key (which refers to its token).
const OLD_ROWS: [&str; 4] = [
    "INSERT INTO authorities (id, country, name, created_at) VALUES ('KE', 'KE', 'KWS', 0)",
    "INSERT INTO tokens (id, token_hash, role, authority_id, label, created_at) \
     VALUES ('tok_issuer', 'h1', 'issuer', 'KE', 'issuer', 0)",
    "INSERT INTO tokens (id, token_hash, role, country, label, created_at) \
     VALUES ('tok_officer', 'h2', 'officer', 'KE', 'phone', 0)",
    "INSERT INTO device_keys (token_id, key_id, public_key, bound_at) \
     VALUES ('tok_officer', 'k1', 'pk', 0)",
];

/// The customs role's migration (0025) over a database that holds tokens and rows that refer
/// to them: every token stays, the references still hold (a referred token cannot be
/// deleted), customs tokens need a country like officers.
#[tokio::test]
async fn the_customs_role_migration_keeps_tokens_and_their_references() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let test_db = TestDb::create(backend).await;
        let after = [
            "SELECT COUNT(*) FROM tokens",
            "INSERT INTO tokens (id, token_hash, role, country, label, created_at) \
             VALUES ('tok_customs', 'h3', 'customs', 'KE', 'KRA', 0)",
            "INSERT INTO tokens (id, token_hash, role, label, created_at) \
             VALUES ('tok_bad', 'h4', 'customs', 'KRA', 0)",
            "DELETE FROM tokens WHERE id = 'tok_officer'",
        ];
        // `$connect` opens a pool on the test database (twice: before and after the server's
        // own migration).
        macro_rules! check {
            ($connect:expr, $name:literal) => {{
                let pool = $connect;
                migrator_before($name, 25).await.run(&pool).await.unwrap();
                for sql in OLD_ROWS {
                    sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(&pool)
                        .await
                        .unwrap();
                }
                pool.close().await;
                drop(Db::open(&test_db.target).await.unwrap());
                let pool = $connect;
                let (n,): (i64,) = sqlx::query_as(after[0]).fetch_one(&pool).await.unwrap();
                assert_eq!(n, 2, "{backend:?}: every token is kept");
                sqlx::query(after[1]).execute(&pool).await.unwrap();
                assert!(
                    sqlx::query(after[2]).execute(&pool).await.is_err(),
                    "{backend:?}: a customs token names a country"
                );
                assert!(
                    sqlx::query(after[3]).execute(&pool).await.is_err(),
                    "{backend:?}: the device key still refers to its token"
                );
                pool.close().await;
            }};
        }
        match &test_db.target {
            permitseal_server::storage::DatabaseTarget::Sqlite(path) => {
                let options = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .foreign_keys(true);
                check!(
                    sqlx::SqlitePool::connect_with(options.clone())
                        .await
                        .unwrap(),
                    "sqlite"
                );
            }
            permitseal_server::storage::DatabaseTarget::Postgres(url) => {
                check!(sqlx::PgPool::connect(url).await.unwrap(), "postgres");
            }
        }
    }
}
