namespace Lifeboat.Catalog;

/// <summary>
/// The catalog schema, version by version. A migration is never edited once released: add a new version.
/// Types are chosen to mean the same in SQLite and PostgreSQL (TEXT timestamps in ISO 8601 UTC, BIGINT counters).
/// </summary>
internal static class CatalogMigrations
{
    public static readonly IReadOnlyList<(int Version, string[] Statements)> All =
    [
        (1,
        [
            """
            CREATE TABLE runs (
                id TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                source TEXT NULL,
                target TEXT NULL,
                status TEXT NOT NULL,
                started TEXT NOT NULL,
                finished TEXT NULL,
                duration_ms BIGINT NULL,
                bytes_read BIGINT NOT NULL DEFAULT 0,
                bytes_stored BIGINT NOT NULL DEFAULT 0,
                backup_id TEXT NULL,
                error TEXT NULL,
                metadata TEXT NULL)
            """,
            "CREATE INDEX runs_source_started ON runs (source, started)",
            """
            CREATE TABLE backups (
                id TEXT PRIMARY KEY,
                source TEXT NOT NULL,
                kind TEXT NOT NULL,
                type TEXT NOT NULL,
                started TEXT NOT NULL,
                finished TEXT NOT NULL,
                bytes BIGINT NOT NULL,
                stored_bytes BIGINT NOT NULL,
                files BIGINT NOT NULL,
                parent TEXT NULL,
                system_identifier TEXT NULL,
                timeline BIGINT NULL,
                start_lsn TEXT NULL,
                stop_lsn TEXT NULL,
                stop_time TEXT NULL,
                damaged BIGINT NOT NULL DEFAULT 0)
            """,
            "CREATE INDEX backups_source ON backups (source, id)",
            """
            CREATE TABLE wal (
                source TEXT NOT NULL,
                system_identifier TEXT NOT NULL,
                name TEXT NOT NULL,
                timeline BIGINT NOT NULL,
                segment BIGINT NOT NULL,
                size BIGINT NOT NULL,
                archived TEXT NULL,
                PRIMARY KEY (source, system_identifier, name))
            """,
            """
            CREATE TABLE schedules (
                name TEXT PRIMARY KEY,
                last_run TEXT NULL,
                last_status TEXT NULL,
                next_run TEXT NULL,
                consecutive_failures BIGINT NOT NULL DEFAULT 0)
            """,
        ]),
        (2,
        [
            // Drills: the evidence that a backup was restored and checked, with the measured RTO and RPO.
            """
            CREATE TABLE drills (
                id TEXT PRIMARY KEY,
                source TEXT NOT NULL,
                kind TEXT NOT NULL,
                backup_id TEXT NULL,
                started TEXT NOT NULL,
                finished TEXT NOT NULL,
                result TEXT NOT NULL,
                restorable BIGINT NOT NULL DEFAULT 0,
                target TEXT NULL,
                point_reached TEXT NULL,
                point_lsn TEXT NULL,
                rto_ms BIGINT NULL,
                rto_objective_ms BIGINT NULL,
                rto_violated BIGINT NOT NULL DEFAULT 0,
                rpo_ms BIGINT NULL,
                rpo_objective_ms BIGINT NULL,
                rpo_violated BIGINT NOT NULL DEFAULT 0,
                checks_passed BIGINT NOT NULL DEFAULT 0,
                checks_failed BIGINT NOT NULL DEFAULT 0,
                summary TEXT NOT NULL,
                report_json TEXT NOT NULL,
                report_json_path TEXT NULL,
                report_html_path TEXT NULL)
            """,
            "CREATE INDEX drills_source_started ON drills (source, started)",
        ]),
        (3,
        [
            // The server: API tokens (only a SHA-256 hash of the secret), the audit trail (append-only), and jobs.
            """
            CREATE TABLE tokens (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                role TEXT NOT NULL,
                tenant TEXT NOT NULL,
                hash TEXT NOT NULL UNIQUE,
                created TEXT NOT NULL,
                created_by TEXT NULL,
                expires TEXT NULL,
                last_used TEXT NULL,
                revoked TEXT NULL)
            """,
            """
            CREATE TABLE audit (
                id TEXT PRIMARY KEY,
                time TEXT NOT NULL,
                tenant TEXT NOT NULL,
                actor_kind TEXT NOT NULL,
                actor TEXT NOT NULL,
                token_id TEXT NULL,
                role TEXT NULL,
                remote_address TEXT NULL,
                action TEXT NOT NULL,
                target TEXT NULL,
                parameters TEXT NULL,
                result TEXT NOT NULL,
                status BIGINT NOT NULL,
                correlation_id TEXT NOT NULL)
            """,
            "CREATE INDEX audit_tenant_time ON audit (tenant, time)",
            """
            CREATE TABLE jobs (
                id TEXT PRIMARY KEY,
                tenant TEXT NOT NULL,
                kind TEXT NOT NULL,
                source TEXT NULL,
                state TEXT NOT NULL,
                actor TEXT NOT NULL,
                correlation_id TEXT NOT NULL,
                request TEXT NULL,
                created TEXT NOT NULL,
                started TEXT NULL,
                finished TEXT NULL,
                node TEXT NULL,
                phase TEXT NULL,
                bytes BIGINT NOT NULL DEFAULT 0,
                total_bytes BIGINT NULL,
                files BIGINT NOT NULL DEFAULT 0,
                result TEXT NULL,
                error TEXT NULL)
            """,
            "CREATE INDEX jobs_tenant_created ON jobs (tenant, created)",
        ]),
        (5,
        [
            // Maintenance mode: one row per tenant and scope ('*' = the whole workspace, else a source name).
            // ends NULL: until someone leaves it; a row whose end has passed is over (no timer needed).
            """
            CREATE TABLE maintenance (
                tenant TEXT NOT NULL,
                scope TEXT NOT NULL,
                reason TEXT NULL,
                started TEXT NOT NULL,
                ends TEXT NULL,
                actor TEXT NOT NULL,
                PRIMARY KEY (tenant, scope))
            """,
        ]),
        (7,
        [
            // Scheduled runs claimed by a server node: with several nodes on one catalog, the node whose INSERT of
            // (schedule, due) wins runs it; a claim whose heartbeat stopped (a crashed node) is taken over.
            """
            CREATE TABLE schedule_runs (
                name TEXT NOT NULL,
                due TEXT NOT NULL,
                node TEXT NOT NULL,
                claimed TEXT NOT NULL,
                heartbeat TEXT NOT NULL,
                finished TEXT NULL,
                status TEXT NULL,
                takeovers BIGINT NOT NULL DEFAULT 0,
                PRIMARY KEY (name, due))
            """,
            "CREATE INDEX schedule_runs_open ON schedule_runs (finished, heartbeat)",
        ]),
        (8,
        [
            // The API's backup lists: newest first, a page at a time.
            "CREATE INDEX backups_finished ON backups (finished, id)",
        ]),
        (10,
        [
            // The event log, an outbox: every change writes its events in its own transaction; the server fans them
            // out to deliveries (dispatched = 1) and retention removes them once they are delivered (docs/events.md).
            """
            CREATE TABLE events (
                id TEXT PRIMARY KEY,
                time TEXT NOT NULL,
                tenant TEXT NOT NULL,
                type TEXT NOT NULL,
                source TEXT NULL,
                severity TEXT NOT NULL,
                severity_rank BIGINT NOT NULL,
                correlation_id TEXT NOT NULL,
                data TEXT NOT NULL,
                dispatched BIGINT NOT NULL DEFAULT 0)
            """,
            "CREATE INDEX events_tenant_time ON events (tenant, time, id)",
            "CREATE INDEX events_correlation ON events (correlation_id)",
            "CREATE INDEX events_undispatched ON events (dispatched, time) WHERE dispatched = 0",
        ]),
        (11,
        [
            // Webhook endpoints (their whsec_ secrets are needed to sign, so they are kept, and never shown again),
            // deliveries of events to channels (a webhook, an e-mail or chat channel) with their persisted retry
            // schedule, and the log of every attempt.
            """
            CREATE TABLE webhooks (
                id TEXT PRIMARY KEY,
                tenant TEXT NOT NULL,
                url TEXT NOT NULL,
                description TEXT NULL,
                events TEXT NOT NULL,
                secrets TEXT NOT NULL,
                enabled BIGINT NOT NULL DEFAULT 1,
                disabled_reason TEXT NULL,
                created TEXT NOT NULL,
                created_by TEXT NULL,
                updated TEXT NOT NULL)
            """,
            "CREATE INDEX webhooks_tenant ON webhooks (tenant, created)",
            """
            CREATE TABLE deliveries (
                id TEXT PRIMARY KEY,
                tenant TEXT NOT NULL,
                channel TEXT NOT NULL,
                event_id TEXT NOT NULL,
                reason TEXT NOT NULL,
                state TEXT NOT NULL,
                attempts BIGINT NOT NULL DEFAULT 0,
                created TEXT NOT NULL,
                next_attempt TEXT NULL,
                finished TEXT NULL,
                last_status BIGINT NULL,
                last_error TEXT NULL,
                detail TEXT NULL)
            """,
            "CREATE INDEX deliveries_due ON deliveries (state, next_attempt)",
            "CREATE INDEX deliveries_event ON deliveries (event_id)",
            "CREATE INDEX deliveries_channel ON deliveries (channel, created, id)",
            "CREATE INDEX deliveries_tenant_state ON deliveries (tenant, state, created)",
            """
            CREATE TABLE delivery_attempts (
                delivery_id TEXT NOT NULL,
                attempt BIGINT NOT NULL,
                time TEXT NOT NULL,
                status BIGINT NULL,
                latency_ms BIGINT NOT NULL,
                error TEXT NULL,
                response TEXT NULL,
                PRIMARY KEY (delivery_id, attempt))
            """,
        ]),
        (12,
        [
            // Incidents of the routing rules: one alert per incident (a failing backup, a violated objective), repeats
            // held back for the quiet period, one "resolved" message to the channels that got the alert.
            """
            CREATE TABLE incidents (
                tenant TEXT NOT NULL,
                key TEXT NOT NULL,
                type TEXT NOT NULL,
                source TEXT NULL,
                opened TEXT NOT NULL,
                opened_event TEXT NOT NULL,
                last_event TEXT NOT NULL,
                last_notified TEXT NOT NULL,
                suppressed BIGINT NOT NULL DEFAULT 0,
                channels TEXT NOT NULL,
                resolved TEXT NULL,
                PRIMARY KEY (tenant, key))
            """,
        ]),
        (15,
        [
            // The last state of each status check the server's health evaluation saw: alerts on a change of state only.
            """
            CREATE TABLE health_states (
                tenant TEXT NOT NULL,
                source TEXT NOT NULL,
                check_name TEXT NOT NULL,
                state TEXT NOT NULL,
                detail TEXT NOT NULL,
                changed TEXT NOT NULL,
                PRIMARY KEY (tenant, source, check_name))
            """,
        ]),
        (18,
        [
            // Approvals (docs/approvals.md): a tenant's policies, its requests (each the exact operation, its parameters
            // and their hash) and every person's decision on them (one person decides once).
            """
            CREATE TABLE approval_policies (
                tenant TEXT NOT NULL,
                operation TEXT NOT NULL,
                approvals BIGINT NOT NULL,
                role TEXT NULL,
                users TEXT NULL,
                approve_within BIGINT NOT NULL,
                execute_within BIGINT NOT NULL,
                version TEXT NOT NULL,
                updated TEXT NOT NULL,
                updated_by TEXT NOT NULL,
                PRIMARY KEY (tenant, operation))
            """,
            """
            CREATE TABLE approval_requests (
                id TEXT PRIMARY KEY,
                tenant TEXT NOT NULL,
                operation TEXT NOT NULL,
                source TEXT NULL,
                description TEXT NOT NULL,
                parameters TEXT NOT NULL,
                hash TEXT NOT NULL,
                subject TEXT NULL,
                requested_by TEXT NOT NULL,
                requester TEXT NOT NULL,
                policy_version TEXT NOT NULL,
                required BIGINT NOT NULL,
                role TEXT NULL,
                users TEXT NULL,
                state TEXT NOT NULL,
                created TEXT NOT NULL,
                approve_by TEXT NOT NULL,
                approved TEXT NULL,
                execute_by TEXT NULL,
                finished TEXT NULL,
                reason TEXT NULL,
                correlation_id TEXT NOT NULL)
            """,
            "CREATE INDEX approval_requests_tenant ON approval_requests (tenant, state, created)",
            "CREATE INDEX approval_requests_hash ON approval_requests (tenant, hash, requested_by, state)",
            """
            CREATE TABLE approval_decisions (
                request_id TEXT NOT NULL,
                principal TEXT NOT NULL,
                decision TEXT NOT NULL,
                role TEXT NULL,
                token_id TEXT NULL,
                time TEXT NOT NULL,
                reason TEXT NULL,
                PRIMARY KEY (request_id, principal))
            """,
        ]),
        (19,
        [
            // Tenants (docs/design/tenants.md): the tables that came from the command line gain a tenant, and their keys
            // and indexes widen with it (a source or schedule name is unique per tenant, not globally; a backup id is a
            // repository's, and two tenants' repositories are independent). Rows before tenants are the default tenant's.
            // Tables whose key changes are copied into a new table (SQLite cannot change a primary key in place).
            "ALTER TABLE runs ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default'",
            "DROP INDEX runs_source_started",
            "CREATE INDEX runs_tenant_source_started ON runs (tenant, source, started)",
            "CREATE INDEX runs_tenant_started ON runs (tenant, started)",
            """
            CREATE TABLE backups_t (
                tenant TEXT NOT NULL,
                id TEXT NOT NULL,
                source TEXT NOT NULL,
                kind TEXT NOT NULL,
                type TEXT NOT NULL,
                started TEXT NOT NULL,
                finished TEXT NOT NULL,
                bytes BIGINT NOT NULL,
                stored_bytes BIGINT NOT NULL,
                files BIGINT NOT NULL,
                parent TEXT NULL,
                system_identifier TEXT NULL,
                timeline BIGINT NULL,
                start_lsn TEXT NULL,
                stop_lsn TEXT NULL,
                stop_time TEXT NULL,
                damaged BIGINT NOT NULL DEFAULT 0,
                PRIMARY KEY (tenant, id))
            """,
            """
            INSERT INTO backups_t (tenant, id, source, kind, type, started, finished, bytes, stored_bytes, files, parent, system_identifier, timeline, start_lsn, stop_lsn, stop_time, damaged)
            SELECT 'default', id, source, kind, type, started, finished, bytes, stored_bytes, files, parent, system_identifier, timeline, start_lsn, stop_lsn, stop_time, damaged FROM backups
            """,
            "DROP TABLE backups",
            "ALTER TABLE backups_t RENAME TO backups",
            "CREATE INDEX backups_source ON backups (tenant, source, id)",
            "CREATE INDEX backups_finished ON backups (tenant, finished, id)",
            """
            CREATE TABLE wal_t (
                tenant TEXT NOT NULL,
                source TEXT NOT NULL,
                system_identifier TEXT NOT NULL,
                name TEXT NOT NULL,
                timeline BIGINT NOT NULL,
                segment BIGINT NOT NULL,
                size BIGINT NOT NULL,
                archived TEXT NULL,
                PRIMARY KEY (tenant, source, system_identifier, name))
            """,
            "INSERT INTO wal_t (tenant, source, system_identifier, name, timeline, segment, size, archived) SELECT 'default', source, system_identifier, name, timeline, segment, size, archived FROM wal",
            "DROP TABLE wal",
            "ALTER TABLE wal_t RENAME TO wal",
            """
            CREATE TABLE schedules_t (
                tenant TEXT NOT NULL,
                name TEXT NOT NULL,
                last_run TEXT NULL,
                last_status TEXT NULL,
                next_run TEXT NULL,
                consecutive_failures BIGINT NOT NULL DEFAULT 0,
                PRIMARY KEY (tenant, name))
            """,
            "INSERT INTO schedules_t (tenant, name, last_run, last_status, next_run, consecutive_failures) SELECT 'default', name, last_run, last_status, next_run, consecutive_failures FROM schedules",
            "DROP TABLE schedules",
            "ALTER TABLE schedules_t RENAME TO schedules",
            """
            CREATE TABLE schedule_runs_t (
                tenant TEXT NOT NULL,
                name TEXT NOT NULL,
                due TEXT NOT NULL,
                node TEXT NOT NULL,
                claimed TEXT NOT NULL,
                heartbeat TEXT NOT NULL,
                finished TEXT NULL,
                status TEXT NULL,
                takeovers BIGINT NOT NULL DEFAULT 0,
                PRIMARY KEY (tenant, name, due))
            """,
            "INSERT INTO schedule_runs_t (tenant, name, due, node, claimed, heartbeat, finished, status, takeovers) SELECT 'default', name, due, node, claimed, heartbeat, finished, status, takeovers FROM schedule_runs",
            "DROP TABLE schedule_runs",
            "ALTER TABLE schedule_runs_t RENAME TO schedule_runs",
            "CREATE INDEX schedule_runs_open ON schedule_runs (tenant, finished, heartbeat)",
            "ALTER TABLE drills ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default'",
            "DROP INDEX drills_source_started",
            "CREATE INDEX drills_tenant_source_started ON drills (tenant, source, started)",
            """
            CREATE TABLE tenants (
                name TEXT PRIMARY KEY,
                display_name TEXT NOT NULL,
                state TEXT NOT NULL,
                created TEXT NOT NULL,
                created_by TEXT NOT NULL,
                state_changed TEXT NOT NULL,
                state_reason TEXT NULL,
                remove_after TEXT NULL,
                quota_stored_bytes BIGINT NULL,
                quota_sources BIGINT NULL,
                quota_jobs BIGINT NULL,
                usage_stored_bytes BIGINT NOT NULL DEFAULT 0,
                usage_logical_bytes BIGINT NOT NULL DEFAULT 0,
                usage_updated TEXT NULL)
            """,
            "CREATE TABLE tenant_api_calls (tenant TEXT NOT NULL, day TEXT NOT NULL, calls BIGINT NOT NULL, PRIMARY KEY (tenant, day))",
        ]),
    ];
}
