//go:build integration

package postgres

import (
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicedata/sluice/internal/pgtest"
)

// TestTLSClientCertificate runs the connector against a server that
// requires TLS and a client certificate (pg_hba "hostssl … cert"), with
// Debezium's keys: database.sslmode=verify-full and database.sslrootcert
// verify the server; database.sslcert with database.sslkey as a PEM file
// or as pgjdbc's PKCS-8 DER authenticate the client. Without the
// certificate, or against the wrong authority, it fails saying so.
func TestTLSClientCertificate(t *testing.T) {
	c := startCluster(t)
	data := filepath.Join(c.dir, "pg", "data")
	certs := t.TempDir()
	ca, other := pgtest.NewAuthority(t, "sluice test CA"), pgtest.NewAuthority(t, "another CA")
	pgtest.WriteFile(t, filepath.Join(certs, "ca.pem"), pgtest.CertPEM(ca.Cert))
	pgtest.WriteFile(t, filepath.Join(certs, "other-ca.pem"), pgtest.CertPEM(other.Cert))

	// The server: a certificate for 127.0.0.1, clients verified against
	// the CA, certificates required over TLS.
	srv, srvKey := ca.Issue(t, "localhost", false)
	pgFile(t, filepath.Join(data, "server.crt"), pgtest.CertPEM(srv))
	pgFile(t, filepath.Join(data, "server.key"), pgtest.KeyPEM(t, srvKey))
	pgFile(t, filepath.Join(data, "root.crt"), pgtest.CertPEM(ca.Cert))
	appendFile(t, filepath.Join(data, "postgresql.conf"), "ssl=on\nssl_cert_file='server.crt'\nssl_key_file='server.key'\nssl_ca_file='root.crt'\n")
	hba, err := os.ReadFile(filepath.Join(data, "pg_hba.conf"))
	if err != nil {
		t.Fatal(err)
	}
	pgFile(t, filepath.Join(data, "pg_hba.conf"), append([]byte("hostssl all all 127.0.0.1/32 cert\nhostssl replication all 127.0.0.1/32 cert\n"), hba...))
	c.pgctl(t, "-m", "fast", "-w", "restart")

	// The client: CN is the database user, as cert authentication wants.
	cli, cliKey := ca.Issue(t, "postgres", true)
	pgtest.WriteFile(t, filepath.Join(certs, "client.crt"), pgtest.CertPEM(cli))
	pgtest.WriteFile(t, filepath.Join(certs, "client.key"), pgtest.KeyPEM(t, cliKey))
	pgtest.WriteFile(t, filepath.Join(certs, "client.pk8"), pgtest.KeyDER(t, cliKey))

	d := newTestDBOn(t, c.dsn) // without TLS: the trust rule still applies
	d.exec(`CREATE TABLE t (id int PRIMARY KEY)`)
	d.exec(`INSERT INTO t VALUES (1)`)
	tlsConfig := func(slot string, kv ...string) map[string]string {
		return d.config(append([]string{"slot.name", slot, "database.sslmode", "verify-full",
			"database.sslrootcert", filepath.Join(certs, "ca.pem")}, kv...)...)
	}
	for i, key := range []string{"client.key", "client.pk8"} {
		r := openTask(t, tlsConfig("tls_"+strconv.Itoa(i), "database.sslcert", filepath.Join(certs, "client.crt"),
			"database.sslkey", filepath.Join(certs, key)), nil)
		if recs := dataRecords(r.pollN(1, 30*time.Second)); len(recs) != 1 || opOf(recs[0]) != opRead {
			t.Fatalf("%s: snapshot %v", key, recs)
		}
		r.close()
	}
	for _, tc := range []struct {
		name string
		cfg  map[string]string
		want string
	}{
		{"no client certificate", tlsConfig("tls_none"), "set database.sslcert and database.sslkey"},
		{"wrong authority", d.config("slot.name", "tls_ca", "database.sslmode", "verify-full",
			"database.sslrootcert", filepath.Join(certs, "other-ca.pem"), "database.sslcert", filepath.Join(certs, "client.crt"),
			"database.sslkey", filepath.Join(certs, "client.key")), "check database.sslrootcert"},
	} {
		_, err := tryOpenTask(t, tc.cfg, nil)
		t.Logf("%s: %v", tc.name, err)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error that says %q", tc.name, err, tc.want)
		}
	}
}

// pgFile writes a file of the server's data directory, owned by the
// postgres user when the tests run as root (postgres.sh runs the server
// as postgres then), readable by it only.
func pgFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if os.Getuid() != 0 {
		return
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(path, uid, gid); err != nil {
		t.Fatal(err)
	}
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}
