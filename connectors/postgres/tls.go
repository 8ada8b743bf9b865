package postgres

import (
	"fmt"
	"net/url"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluicedata/sluice/connectors"
	"github.com/sluicedata/sluice/internal/pgtls"
)

// TLS settings beyond sslmode (database.sslrootcert, .sslcert, .sslkey,
// .sslpassword), as Debezium passes them to pgjdbc. pgx reads the root
// certificates and a PEM client key itself (tlsParams); pgjdbc's other
// key format, PKCS-8 DER (a .pk8 file), is loaded by internal/pgtls and
// set on the TLS configurations pgx derived (applyClientCert).

// tlsParams adds the connection parameters pgx handles to q.
func (c Config) tlsParams(q url.Values) {
	if c.SSLRootCert != "" {
		q.Set("sslrootcert", c.SSLRootCert)
	}
	if c.SSLCert != "" && c.SSLKey != "" && !pgtls.IsDER(c.SSLKey) {
		q.Set("sslcert", c.SSLCert)
		q.Set("sslkey", c.SSLKey)
		if c.SSLPassword != "" {
			q.Set("sslpassword", c.SSLPassword)
		}
	}
}

// applyClientCert sets the client certificate of a DER key on pc.
func (c Config) applyClientCert(pc *pgconn.Config) error {
	if c.SSLCert == "" || c.SSLKey == "" || !pgtls.IsDER(c.SSLKey) {
		return nil
	}
	cert, err := pgtls.LoadDER(c.SSLCert, c.SSLKey, c.SSLPassword)
	if err != nil {
		return fmt.Errorf("%w: %w", connectors.ErrInvalidConfig, connectors.NewConfigError(KeySSLKey, c.SSLKey, err.Error()))
	}
	pgtls.SetClientCert(pc, cert)
	return nil
}
