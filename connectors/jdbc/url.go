package jdbc

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/sluicedata/sluice/internal/pgtls"
)

// jdbcURL is a parsed jdbc:postgresql: URL (pgJDBC's syntax):
//
//	jdbc:postgresql:database
//	jdbc:postgresql:/
//	jdbc:postgresql://host/database
//	jdbc:postgresql://host:port,host2:port2/database?user=u&password=p&sslmode=require
type jdbcURL struct {
	hosts    []string // host:port, port defaulted to 5432
	database string
	params   map[string]string
}

// parseJDBCURL parses a JDBC URL for PostgreSQL. Other databases get an
// error that says so.
func parseJDBCURL(s string) (jdbcURL, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return jdbcURL{}, errors.New("the JDBC URL is empty")
	}
	rest, ok := strings.CutPrefix(s, "jdbc:postgresql:")
	if !ok {
		if strings.HasPrefix(s, "jdbc:") {
			sub, _, _ := strings.Cut(strings.TrimPrefix(s, "jdbc:"), ":")
			return jdbcURL{}, fmt.Errorf("Sluice's JDBC sink writes to PostgreSQL only; jdbc:%s: URLs are not supported", sub)
		}
		return jdbcURL{}, errors.New("not a JDBC URL: expected jdbc:postgresql://host[:port]/database")
	}
	u := jdbcURL{params: map[string]string{}}
	rest, query, _ := strings.Cut(rest, "?")
	if query != "" {
		for _, kv := range strings.Split(query, "&") {
			if kv == "" {
				continue
			}
			k, v, _ := strings.Cut(kv, "=")
			uk, err := url.QueryUnescape(k)
			if err != nil {
				return jdbcURL{}, fmt.Errorf("bad URL parameter %q: %v", kv, err)
			}
			uv, err := url.QueryUnescape(v)
			if err != nil {
				return jdbcURL{}, fmt.Errorf("bad URL parameter %q: %v", kv, err)
			}
			u.params[uk] = uv
		}
	}
	if after, ok := strings.CutPrefix(rest, "//"); ok {
		hostPart, db, _ := strings.Cut(after, "/")
		for _, h := range strings.Split(hostPart, ",") {
			if h == "" {
				continue
			}
			host, port := h, "5432"
			if strings.HasPrefix(h, "[") { // [ipv6]:port
				end := strings.Index(h, "]")
				if end < 0 {
					return jdbcURL{}, fmt.Errorf("bad host %q", h)
				}
				host = h[1:end]
				if p, ok := strings.CutPrefix(h[end+1:], ":"); ok {
					port = p
				}
			} else if i := strings.LastIndex(h, ":"); i >= 0 {
				host, port = h[:i], h[i+1:]
			}
			if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
				return jdbcURL{}, fmt.Errorf("bad port %q in %q", port, h)
			}
			u.hosts = append(u.hosts, net.JoinHostPort(host, port))
		}
		dbName, err := url.PathUnescape(db)
		if err != nil {
			return jdbcURL{}, fmt.Errorf("bad database name %q: %v", db, err)
		}
		u.database = dbName
	} else {
		// jdbc:postgresql:database or jdbc:postgresql:/
		dbName, err := url.PathUnescape(strings.TrimPrefix(rest, "/"))
		if err != nil {
			return jdbcURL{}, fmt.Errorf("bad database name %q: %v", rest, err)
		}
		u.database = dbName
	}
	if len(u.hosts) == 0 {
		u.hosts = []string{"localhost:5432"}
	}
	return u, nil
}

// pgxConfig builds the pgx connection config: the URL's hosts, database
// and parameters, with user and password from the config keys when set.
func (c Config) pgxConfig() (*pgx.ConnConfig, error) {
	u, err := parseJDBCURL(c.ConnectionURL)
	if err != nil {
		return nil, err
	}
	user := u.params["user"]
	if c.User != "" {
		user = c.User
	}
	password := u.params["password"]
	if c.Password.Value() != "" {
		password = c.Password.Value()
	}
	q := url.Values{}
	// pgJDBC parameter → libpq/pgx parameter.
	if m := u.params["sslmode"]; m != "" {
		q.Set("sslmode", m)
	} else if strings.EqualFold(u.params["ssl"], "true") {
		q.Set("sslmode", "verify-full") // pgJDBC: ssl=true verifies the certificate and host
	}
	// pgJDBC's sslkey is PKCS-8 DER by default, which pgx cannot read:
	// such a key is loaded by pgtls and set after parsing.
	derKey := u.params["sslcert"] != "" && u.params["sslkey"] != "" && pgtls.IsDER(u.params["sslkey"])
	if !derKey {
		for _, k := range []string{"sslcert", "sslkey", "sslpassword"} {
			if v := u.params[k]; v != "" {
				q.Set(k, v)
			}
		}
	}
	for jdbcKey, pgKey := range map[string]string{
		"sslrootcert":     "sslrootcert",
		"ApplicationName": "application_name", "applicationName": "application_name",
		"options": "options",
	} {
		if v := u.params[jdbcKey]; v != "" {
			q.Set(pgKey, v)
		}
	}
	for _, k := range []string{"connectTimeout", "loginTimeout"} {
		if v := u.params[k]; v != "" && v != "0" {
			q.Set("connect_timeout", v)
		}
	}
	if q.Get("connect_timeout") == "" {
		q.Set("connect_timeout", "10") // pgJDBC's default connectTimeout
	}
	if v := u.params["currentSchema"]; v != "" {
		q.Set("search_path", v)
	}
	if v := u.params["targetServerType"]; v != "" {
		attrs := map[string]string{"any": "any", "primary": "read-write", "master": "read-write",
			"secondary": "standby", "standby": "standby", "preferSecondary": "prefer-standby",
			"preferStandby": "prefer-standby", "preferPrimary": "any"}
		if a, ok := attrs[v]; ok {
			q.Set("target_session_attrs", a)
		}
	}
	pu := url.URL{Scheme: "postgres", Host: strings.Join(u.hosts, ","), Path: "/" + u.database}
	if user != "" || password != "" {
		if password != "" {
			pu.User = url.UserPassword(user, password)
		} else {
			pu.User = url.User(user)
		}
	}
	pu.RawQuery = encodeSorted(q)
	cc, err := pgx.ParseConfig(pu.String())
	if err != nil {
		return nil, fmt.Errorf("connection.url: %w", err)
	}
	if derKey {
		cert, err := pgtls.LoadDER(u.params["sslcert"], u.params["sslkey"], u.params["sslpassword"])
		if err != nil {
			return nil, fmt.Errorf("connection.url sslkey: %w", err)
		}
		pgtls.SetClientCert(&cc.Config, cert)
	}
	if u.database == "" && user != "" {
		cc.Database = user // pgJDBC and libpq: the database defaults to the user name
	}
	return cc, nil
}

func encodeSorted(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(k) + "=" + url.QueryEscape(q.Get(k)))
	}
	return b.String()
}

// describeTarget renders where the sink connects, without the password,
// for error messages.
func (c Config) describeTarget() string {
	u, err := parseJDBCURL(c.ConnectionURL)
	if err != nil {
		return c.ConnectionURL
	}
	user := u.params["user"]
	if c.User != "" {
		user = c.User
	}
	s := strings.Join(u.hosts, ",") + "/" + u.database
	if user != "" {
		s = user + "@" + s
	}
	return s
}

var passwordParam = regexp.MustCompile(`(?i)([?&;]password=)[^&;]*`)

// redactURL hides a password parameter of a JDBC URL.
func redactURL(s string) string { return passwordParam.ReplaceAllString(s, "${1}[hidden]") }
