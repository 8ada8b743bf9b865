package postgres

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"syscall"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/sluicedata/sluice/connectors"
)

// connect opens a regular connection with the session parameters the
// decoders rely on.
func connect(ctx context.Context, cfg Config) (*pgx.Conn, error) {
	pc, err := pgx.ParseConfig(cfg.connString())
	if err != nil {
		return nil, fmt.Errorf("%w: connection settings: %w", connectors.ErrInvalidConfig, err)
	}
	if err := cfg.applyClientCert(&pc.Config); err != nil {
		return nil, err
	}
	for k, v := range sessionParams {
		pc.RuntimeParams[k] = v
	}
	return pgx.ConnectConfig(ctx, pc)
}

// connectReplication opens a logical replication connection
// (replication=database).
func connectReplication(ctx context.Context, cfg Config) (*pgconn.PgConn, error) {
	pc, err := pgconn.ParseConfig(cfg.connString())
	if err != nil {
		return nil, fmt.Errorf("%w: connection settings: %w", connectors.ErrInvalidConfig, err)
	}
	if err := cfg.applyClientCert(pc); err != nil {
		return nil, err
	}
	for k, v := range sessionParams {
		pc.RuntimeParams[k] = v
	}
	pc.RuntimeParams["replication"] = "database"
	return pgconn.ConnectConfig(ctx, pc)
}

// pgCode returns the SQLSTATE of err, or "".
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// classifyConnectError turns a connection failure into an error that
// says what to fix. Unreachable servers are retriable; bad credentials,
// databases and pg_hba rules are not.
func classifyConnectError(cfg Config, err error) error {
	addr := net.JoinHostPort(cfg.Hostname, fmt.Sprint(cfg.Port))
	switch code := pgCode(err); {
	case code == "28P01" || code == "28000" && strings.Contains(err.Error(), "password"):
		return fmt.Errorf("%w: password authentication failed for user %q at %s: check database.user and database.password: %w",
			ErrSetup, cfg.User, addr, err)
	case code == "28000" && strings.Contains(err.Error(), "replication"):
		return fmt.Errorf("%w: the server refuses replication connections from this host for user %q: add a line such as "+
			"'host replication %s <client address>/32 scram-sha-256' to pg_hba.conf and reload Postgres: %w", ErrSetup, cfg.User, cfg.User, err)
	case code == "28000" && strings.Contains(err.Error(), "certificate"):
		return fmt.Errorf("%w: the server wants a client certificate from user %q at %s: set database.sslcert and database.sslkey "+
			"(its CN must be the user name): %w", ErrSetup, cfg.User, addr, err)
	case code == "28000" && strings.Contains(err.Error(), "does not exist"):
		return fmt.Errorf("%w: role %q does not exist on %s: check database.user: %w", ErrSetup, cfg.User, addr, err)
	case code == "28000":
		return fmt.Errorf("%w: user %q may not connect to %s (pg_hba.conf or role): check database.user and pg_hba.conf: %w", ErrSetup, cfg.User, addr, err)
	case code == "3D000":
		return fmt.Errorf("%w: database %q does not exist on %s: check database.dbname: %w", ErrSetup, cfg.DBName, addr, err)
	case code == "42501":
		return fmt.Errorf("%w: user %q lacks a privilege: %w", ErrSetup, cfg.User, err)
	case code != "" && !isRetriable(err):
		return fmt.Errorf("postgres: connect to %s: %w", addr, err)
	case certificateError(err):
		return fmt.Errorf("%w: the certificate of the server at %s cannot be verified: check database.sslrootcert (the authority "+
			"that signed it), or database.sslmode (verify-full also checks database.hostname against it): %w", ErrSetup, addr, err)
	}
	return connectors.Retriable(fmt.Errorf("postgres: cannot connect to %s (is the server running, and are database.hostname and database.port right?): %w", addr, err))
}

// certificateError reports whether err is a failed verification of the
// server's TLS certificate.
func certificateError(err error) bool {
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	return errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid) || errors.As(err, &verify)
}

// isRetriable reports whether err is transient: the connection was lost
// or refused, the server is starting or shutting down, or the slot is
// still held by a previous connection.
func isRetriable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, connectors.ErrRetriable) {
		return true
	}
	if errors.Is(err, ErrSetup) || errors.Is(err, ErrSlotAhead) || errors.Is(err, ErrSlotMissing) ||
		errors.Is(err, ErrUnsupported) || errors.Is(err, connectors.ErrInvalidConfig) || errors.Is(err, connectors.ErrData) {
		return false
	}
	if code := pgCode(err); code != "" {
		switch {
		case strings.HasPrefix(code, "08"), // connection exception
			strings.HasPrefix(code, "57P"), // admin/crash shutdown, cannot connect now
			strings.HasPrefix(code, "53"),  // insufficient resources
			strings.HasPrefix(code, "58"),  // system error
			code == "55006",                // object in use (slot active)
			code == "40001", code == "40P01":
			return true
		}
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	return pgconn.SafeToRetry(err) || strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "unexpected EOF")
}

// problem is one setup problem, attributed to the config key to change.
type problem struct {
	key string
	msg string
}

func problemsError(ps []problem) error {
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.key + ": " + p.msg
	}
	return fmt.Errorf("%w: %s", ErrSetup, strings.Join(msgs, "; "))
}

// preflight checks the server and the user for logical replication:
// wal_level, the REPLICATION attribute, the publication (when it must
// exist) and the slot's plugin. With tables set it also checks that
// every table.include.list entry matches a table and that the captured
// tables are readable.
func preflight(ctx context.Context, conn *pgx.Conn, cfg Config, f *filters, tables bool) []problem {
	var ps []problem
	var walLevel string
	if err := conn.QueryRow(ctx, "SHOW wal_level").Scan(&walLevel); err != nil {
		return []problem{{KeyHostname, "cannot read wal_level: " + err.Error()}}
	}
	if walLevel != "logical" {
		ps = append(ps, problem{KeyHostname, fmt.Sprintf("wal_level is %s; set wal_level=logical in postgresql.conf "+
			"(or ALTER SYSTEM SET wal_level = logical) and restart Postgres", walLevel)})
	}
	var super, repl bool
	if err := conn.QueryRow(ctx, "SELECT rolsuper, rolreplication FROM pg_roles WHERE rolname = current_user").Scan(&super, &repl); err != nil {
		ps = append(ps, problem{KeyUser, "cannot read the role's attributes: " + err.Error()})
	} else if !super && !repl && cfg.SnapshotMode != SnapshotInitialOnly {
		ps = append(ps, problem{KeyUser, fmt.Sprintf("user %q lacks the REPLICATION attribute needed for logical replication; "+
			"run ALTER ROLE %s WITH REPLICATION (as a superuser), or connect as a role that has it", cfg.User, sqlIdent(cfg.User))})
	}
	if cfg.SnapshotMode != SnapshotInitialOnly {
		var exists bool
		var allTables bool
		err := conn.QueryRow(ctx, "SELECT true, puballtables FROM pg_publication WHERE pubname = $1", cfg.Publication).Scan(&exists, &allTables)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			ps = append(ps, problem{KeyPublication, "cannot read pg_publication: " + err.Error()})
		}
		switch {
		case !exists && cfg.PublicationAutocreate == AutocreateDisabled:
			ps = append(ps, problem{KeyPublication, fmt.Sprintf("publication %q does not exist and publication.autocreate.mode=disabled: "+
				"create it (CREATE PUBLICATION %s FOR ALL TABLES, or FOR TABLE …) or set publication.autocreate.mode=filtered",
				cfg.Publication, cfg.Publication)})
		case !exists && cfg.PublicationAutocreate == AutocreateAllTables && !super:
			ps = append(ps, problem{KeyPubAutocreate, fmt.Sprintf("publication %q does not exist, and creating it FOR ALL TABLES "+
				"requires a superuser; set publication.autocreate.mode=filtered (needs ownership of the captured tables) or have a "+
				"superuser run CREATE PUBLICATION %s FOR ALL TABLES", cfg.Publication, cfg.Publication)})
		case exists && allTables && cfg.PublicationAutocreate == AutocreateFiltered:
			ps = append(ps, problem{KeyPubAutocreate, fmt.Sprintf("publication %q is FOR ALL TABLES and cannot be altered to the "+
				"filtered table list; drop it, use another publication.name, or set publication.autocreate.mode=all_tables", cfg.Publication)})
		}
		var plugin string
		err = conn.QueryRow(ctx, "SELECT COALESCE(plugin, '') FROM pg_replication_slots WHERE slot_name = $1", cfg.SlotName).Scan(&plugin)
		if err == nil && plugin != PluginPgoutput {
			ps = append(ps, problem{KeySlotName, fmt.Sprintf("replication slot %q exists but uses plugin %q, not pgoutput: "+
				"drop it (SELECT pg_drop_replication_slot('%s')) or choose another slot.name", cfg.SlotName, plugin, cfg.SlotName)})
		}
	}
	if cfg.SignalTable != "" {
		s, t, _ := splitQualified(cfg.SignalTable)
		var ok bool
		_ = conn.QueryRow(ctx, `SELECT true FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = $1 AND c.relname = $2`, s, t).Scan(&ok)
		if !ok {
			ps = append(ps, problem{KeySignalTable, fmt.Sprintf("signalling table %s does not exist: create it with "+
				"CREATE TABLE %s (id varchar(42) PRIMARY KEY, type varchar(32) NOT NULL, data varchar(2048))", cfg.SignalTable, cfg.SignalTable)})
		}
	}
	if !tables {
		return ps
	}
	cat := newCatalog(conn)
	all, _, err := cat.listTables(ctx, &filters{})
	if err != nil {
		return append(ps, problem{KeyTableInclude, err.Error()})
	}
	for _, pat := range cfg.TableInclude {
		re := compileAll([]string{pat})
		if !slices.ContainsFunc(all, func(t tableID) bool { return anyMatch(re, t.String()) }) {
			ps = append(ps, problem{KeyTableInclude, fmt.Sprintf("%q matches no table in database %q (names are 'schema.table', e.g. public.orders)", pat, cfg.DBName)})
		}
	}
	captured, _, _ := cat.listTables(ctx, f)
	var unreadable []string
	for _, t := range captured {
		var ok bool
		if err := conn.QueryRow(ctx, "SELECT has_table_privilege($1, 'SELECT')", t.quoted()).Scan(&ok); err == nil && !ok {
			unreadable = append(unreadable, t.String())
		}
	}
	if len(unreadable) > 0 {
		ps = append(ps, problem{KeyUser, fmt.Sprintf("user %q cannot SELECT from %s: GRANT SELECT ON %s TO %s",
			cfg.User, strings.Join(unreadable, ", "), strings.Join(unreadable, ", "), sqlIdent(cfg.User))})
	}
	return ps
}

// ensurePublication creates or updates the publication as
// publication.autocreate.mode says.
func ensurePublication(ctx context.Context, conn *pgx.Conn, cfg Config, f *filters, logger *slog.Logger) error {
	var exists, allTables bool
	err := conn.QueryRow(ctx, "SELECT true, puballtables FROM pg_publication WHERE pubname = $1", cfg.Publication).Scan(&exists, &allTables)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres: read publication %q: %w", cfg.Publication, err)
	}
	switch cfg.PublicationAutocreate {
	case AutocreateDisabled:
		if !exists {
			return fmt.Errorf("%w: publication %q does not exist and publication.autocreate.mode=disabled: create it and restart the connector", ErrSetup, cfg.Publication)
		}
		return nil
	case AutocreateAllTables:
		if exists {
			return nil
		}
		logger.Info("creating publication", "publication", cfg.Publication, "for", "ALL TABLES")
		if _, err := conn.Exec(ctx, "CREATE PUBLICATION "+quoteIdent(cfg.Publication)+" FOR ALL TABLES"); err != nil {
			return setupError(fmt.Sprintf("create publication %q FOR ALL TABLES (needs a superuser; or set publication.autocreate.mode=filtered)", cfg.Publication), err)
		}
		return nil
	}
	// filtered
	cat := newCatalog(conn)
	tables, _, err := cat.listTables(ctx, f)
	if err != nil {
		return err
	}
	if f.signal.Name != "" && !slices.Contains(tables, f.signal) {
		tables = append(tables, f.signal)
	}
	if len(tables) == 0 {
		return fmt.Errorf("%w: publication.autocreate.mode=filtered but no table matches the filters (table.include.list / schema.include.list)", ErrSetup)
	}
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = t.quoted()
	}
	list := strings.Join(names, ", ")
	if !exists {
		logger.Info("creating publication", "publication", cfg.Publication, "tables", len(tables))
		if _, err := conn.Exec(ctx, "CREATE PUBLICATION "+quoteIdent(cfg.Publication)+" FOR TABLE "+list); err != nil {
			return setupError(fmt.Sprintf("create publication %q for the captured tables (needs ownership of them, or CREATE on the database)", cfg.Publication), err)
		}
		return nil
	}
	if allTables {
		return fmt.Errorf("%w: publication %q is FOR ALL TABLES and cannot be filtered; set publication.autocreate.mode=all_tables or use another publication.name", ErrSetup, cfg.Publication)
	}
	rows, err := conn.Query(ctx, "SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1", cfg.Publication)
	if err != nil {
		return fmt.Errorf("postgres: read publication tables: %w", err)
	}
	current, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tableID, error) {
		var t tableID
		err := r.Scan(&t.Schema, &t.Name)
		return t, err
	})
	if err != nil {
		return fmt.Errorf("postgres: read publication tables: %w", err)
	}
	key := func(l []tableID) []string {
		out := make([]string, len(l))
		for i, t := range l {
			out[i] = t.String()
		}
		slices.Sort(out)
		return out
	}
	if slices.Equal(key(current), key(tables)) {
		return nil
	}
	logger.Info("updating publication tables", "publication", cfg.Publication, "tables", len(tables))
	if _, err := conn.Exec(ctx, "ALTER PUBLICATION "+quoteIdent(cfg.Publication)+" SET TABLE "+list); err != nil {
		return setupError(fmt.Sprintf("alter publication %q to the captured tables", cfg.Publication), err)
	}
	return nil
}

func setupError(what string, err error) error {
	if isRetriable(err) {
		return fmt.Errorf("postgres: %s: %w", what, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrSetup, what, err)
}

// readSlot reads the replication slot's state.
func readSlot(ctx context.Context, conn *pgx.Conn, name string) (slotInfo, error) {
	var s slotInfo
	var confirmed *string
	var pid *int32
	err := conn.QueryRow(ctx, `SELECT COALESCE(plugin, ''), COALESCE(database, ''), confirmed_flush_lsn::text, active_pid
		FROM pg_replication_slots WHERE slot_name = $1`, name).Scan(&s.plugin, &s.database, &confirmed, &pid)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("postgres: read replication slot %q: %w", name, err)
	}
	s.exists = true
	if confirmed != nil {
		if s.confirmed, err = pglogrepl.ParseLSN(*confirmed); err != nil {
			return s, fmt.Errorf("postgres: slot %q: %w", name, err)
		}
	}
	if pid != nil {
		s.activePID = *pid
	}
	return s, nil
}
