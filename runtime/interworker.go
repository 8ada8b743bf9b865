package runtime

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sluicedata/sluice/connectors"
	"github.com/sluicedata/sluice/runtime/assign"
)

// Requests between workers (KIP-507): a follower whose connector generated
// new task configs hands them to the leader through the internal endpoint
// POST /connectors/{c}/tasks. With connect.protocol=sessioned the leader
// keeps a session key in the config topic (session-key, rotated every
// inter.worker.key.ttl.ms) and every internal request carries an HMAC of
// its body under that key, so that only workers of the cluster can call
// the endpoint.

// Internal request headers (Kafka's InternalRequestSignature).
const (
	HeaderSignature          = "X-Connect-Authorization"
	HeaderSignatureAlgorithm = "X-Connect-Request-Signature-Algorithm"
)

// sessionKey is the inter-worker signing key.
type sessionKey struct {
	key       []byte
	algorithm string
	created   time.Time
}

var sessionKeySchema = connectors.StructSchema().
	Field("key", connectors.StringSchema).
	Field("algorithm", connectors.StringSchema).
	Field("creation-timestamp", connectors.Int64Schema).MustBuild()

// encodeSessionKey is the value of the session-key record:
// {"key":"<base64>","algorithm":"HmacSHA256","creation-timestamp":<ms>}.
func encodeSessionKey(k sessionKey) []byte {
	return encodeStruct(sessionKeySchema, base64.StdEncoding.EncodeToString(k.key), k.algorithm, k.created.UnixMilli())
}

func decodeSessionKey(value []byte) (*sessionKey, error) {
	m, err := decodeObject(value)
	if err != nil || m == nil {
		return nil, err
	}
	enc, _ := m["key"].(string)
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf("session key: bad key")
	}
	alg, _ := m["algorithm"].(string)
	ms, _ := m["creation-timestamp"].(int64)
	return &sessionKey{key: key, algorithm: alg, created: time.UnixMilli(ms)}, nil
}

// sign returns the signature of body under the key.
func (k *sessionKey) sign(body []byte) string {
	mac := hmac.New(sha256.New, k.key)
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// maybeRotateSessionKey writes a new session key, on the leader, when
// there is none or it is older than inter.worker.key.ttl.ms, and checks
// again when the current one expires.
func (h *herder) maybeRotateSessionKey() {
	h.keyMu.Lock()
	defer h.keyMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.syncConfig(ctx); err != nil {
		return
	}
	h.mu.Lock()
	k := h.mu.sessionKey
	h.mu.Unlock()
	ttl := h.cfg.InterWorkerKeyTTL
	recheck := func(d time.Duration) {
		if h.keyTimer != nil {
			h.keyTimer.Stop()
		}
		h.keyTimer = time.AfterFunc(d, func() {
			if v := h.memberView(); v.leader && v.protocol >= assign.Sessioned {
				h.maybeRotateSessionKey()
			}
		})
	}
	if k != nil && h.clock().Sub(k.created) < ttl {
		recheck(ttl - h.clock().Sub(k.created))
		return
	}
	key := make([]byte, 32)
	rand.Read(key)
	nk := sessionKey{key: key, algorithm: h.cfg.InterWorkerKeyGenerationAlgorithm, created: h.clock()}
	err := h.asLeader(ctx, func(ctx context.Context) error {
		return h.configLog.Send(ctx, keySessionKey, encodeSessionKey(nk))
	})
	if err != nil {
		h.log.Debug("session key not written (no longer the leader?)", "err", err)
		return
	}
	h.log.Info("wrote a new session key for internal requests")
	recheck(ttl)
}

// verifyInternal checks an internal request's signature (when the group
// uses the sessioned protocol).
func (h *herder) verifyInternal(body []byte, signature, algorithm string) error {
	if v := h.memberView(); v.protocol < assign.Sessioned {
		return nil
	}
	h.mu.Lock()
	k := h.mu.sessionKey
	h.mu.Unlock()
	if signature == "" || algorithm == "" {
		return Errorf(ErrBadRequest, "Internal request missing required signature")
	}
	if k == nil {
		return Errorf(ErrUnavailable, "This worker does not have a session key yet; the request can be retried")
	}
	if !strings.EqualFold(algorithm, "HmacSHA256") {
		return Errorf(ErrBadRequest, "This worker does not support the %s signature algorithm", algorithm)
	}
	want := k.sign(body)
	if subtle.ConstantTimeCompare([]byte(want), []byte(signature)) != 1 {
		return Errorf(ErrForbidden, "Internal request contained invalid signature.")
	}
	return nil
}

// signInternal returns the signature headers of an internal request, or
// nil without a session key.
func (h *herder) signInternal(body []byte) map[string]string {
	h.mu.Lock()
	k := h.mu.sessionKey
	h.mu.Unlock()
	if k == nil {
		return nil
	}
	return map[string]string{HeaderSignature: k.sign(body), HeaderSignatureAlgorithm: "HmacSHA256"}
}

// internalClient makes internal requests to other workers.
type internalClient struct {
	h    *herder
	http *http.Client
}

func newInternalClient(h *herder) *internalClient {
	return &internalClient{h: h, http: &http.Client{Timeout: 30 * time.Second}}
}

// putTaskConfigs posts task configs to the leader at base.
func (c *internalClient) putTaskConfigs(ctx context.Context, base, name string, configs []map[string]string) error {
	body, err := json.Marshal(configs)
	if err != nil {
		return err
	}
	u := strings.TrimRight(base, "/") + "/connectors/" + url.PathEscape(name) + "/tasks?forward=true"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "sluice")
	for k, v := range c.h.signInternal(body) {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("IO Error trying to forward REST request: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	var e struct {
		Message string `json:"message"`
	}
	json.Unmarshal(b, &e)
	switch resp.StatusCode {
	case http.StatusNotFound:
		return &Error{Kind: ErrNotFound, Message: e.Message}
	case http.StatusConflict:
		return &Error{Kind: ErrConflict, Message: e.Message}
	}
	return fmt.Errorf("leader at %s answered %d: %s", base, resp.StatusCode, e.Message)
}
