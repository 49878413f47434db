-- PostgreSQL twin of migrations/0371_login_buckets.sql: login throttling shared by replicas.
CREATE TABLE login_buckets (
    bucket TEXT PRIMARY KEY NOT NULL,
    tat BIGINT NOT NULL
);
