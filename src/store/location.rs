//! Where the store lives (`server.database`, issue 15): a SQLite file — the embedded default,
//! one process — or a PostgreSQL URL, the store that several replicas share. The URL may hold
//! a password, so it is kept as a secret and shown only as `postgres://user@host:port/db`.

use std::fmt;
use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};

/// The configured database.
#[derive(Clone)]
pub enum Database {
    Sqlite(PathBuf),
    Postgres(PostgresUrl),
}

/// A PostgreSQL connection URL. `Debug` and `Display` show it without its password (and
/// without query parameters, which can carry one too).
#[derive(Clone)]
pub struct PostgresUrl {
    url: SecretString,
    shown: String,
}

impl PostgresUrl {
    /// The URL to connect with; never log or show it.
    pub fn expose(&self) -> &str {
        self.url.expose_secret()
    }

    /// `postgres://user@host:port/db`, safe for a log, an error or a page.
    pub fn shown(&self) -> &str {
        &self.shown
    }
}

impl fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Display for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "Sqlite({})", path.display()),
            Database::Postgres(url) => write!(f, "Postgres({url})"),
        }
    }
}

impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "{}", path.display()),
            Database::Postgres(url) => write!(f, "{url}"),
        }
    }
}

impl PartialEq for Database {
    fn eq(&self, other: &Database) -> bool {
        match (self, other) {
            (Database::Sqlite(a), Database::Sqlite(b)) => a == b,
            (Database::Postgres(a), Database::Postgres(b)) => a.expose() == b.expose(),
            _ => false,
        }
    }
}

impl Default for Database {
    fn default() -> Database {
        Database::Sqlite(PathBuf::from("./natpilot.db"))
    }
}

impl Database {
    /// Reads `server.database`: a `postgres://` or `postgresql://` URL, or else a SQLite file
    /// path. Errors say what is wrong and how to write it, and never repeat what follows a
    /// URL's scheme (it may hold a password).
    pub fn parse(raw: &str) -> Result<Database, String> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(
                "the database is empty; give a SQLite file such as `./natpilot.db` \
                 or a PostgreSQL URL such as `postgres://natpilot@db.example.com/natpilot`"
                    .into(),
            );
        }
        let Some((scheme, _)) = trimmed.split_once("://") else {
            return Ok(Database::Sqlite(PathBuf::from(trimmed)));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" => PostgresUrl::parse(trimmed).map(Database::Postgres),
            "sqlite" => Err(
                "a `sqlite://` URL is not a database path: it takes the file path \
                 itself, without `sqlite://`, such as `./natpilot.db`"
                    .into(),
            ),
            other => Err(format!(
                "`{other}://` is not a database natpilot can use; give a SQLite file such as \
                 `./natpilot.db` or a PostgreSQL URL (`postgres://…`)"
            )),
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Database::Postgres(_))
    }
}

impl PostgresUrl {
    fn parse(raw: &str) -> Result<PostgresUrl, String> {
        const FORM: &str = "write it as postgres://user:password@host:port/database (to keep \
             the password out of a shared file, set the URL in NATPILOT_SERVER__DATABASE)";
        // The parser's own message may quote the input: only its kind is kept.
        let url = reqwest::Url::parse(raw)
            .map_err(|e| format!("the PostgreSQL URL does not parse ({e}); {FORM}"))?;
        let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
            return Err(format!("the PostgreSQL URL names no host; {FORM}"));
        };
        let database = url.path().trim_start_matches('/');
        if database.is_empty() {
            return Err(format!("the PostgreSQL URL names no database; {FORM}"));
        }
        let user = match url.username() {
            "" => String::new(),
            user => format!("{user}@"),
        };
        let shown = format!(
            "postgres://{user}{host}:{}/{database}",
            url.port().unwrap_or(5432)
        );
        Ok(PostgresUrl {
            url: SecretString::from(raw.to_owned()),
            shown,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_a_sqlite_file_and_a_url_is_postgres_shown_without_its_password() {
        assert_eq!(
            Database::parse(" ./a.db ").unwrap(),
            Database::Sqlite("./a.db".into())
        );
        let db = Database::parse("postgresql://np:hunter2@db.internal/natpilot?sslmode=require")
            .unwrap();
        let Database::Postgres(url) = &db else {
            panic!("{db:?}")
        };
        assert_eq!(url.shown(), "postgres://np@db.internal:5432/natpilot");
        assert_eq!(
            format!("{db:?} {db}"),
            format!("Postgres({0}) {0}", url.shown())
        );
        assert!(url.expose().contains("hunter2"));
    }

    #[test]
    fn a_bad_database_says_how_to_write_it_and_never_repeats_the_url() {
        for (raw, says) in [
            ("", "empty"),
            ("sqlite:///var/lib/n.db", "without `sqlite://`"),
            ("mysql://u:hunter2@db/n", "not a database natpilot can use"),
            ("postgres://u:hunter2@/natpilot", "host"),
            ("postgres://u:hunter2@db.internal", "names no database"),
            ("postgres://u:hunter2@db.internal:99999/n", "does not parse"),
        ] {
            let err = Database::parse(raw).unwrap_err();
            assert!(err.contains(says), "{raw}: {err}");
            assert!(
                !err.contains("hunter2") && !err.contains("db.internal"),
                "{err}"
            );
        }
    }
}
