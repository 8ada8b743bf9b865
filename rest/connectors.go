package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/sluicedata/sluice/connectors"
	"github.com/sluicedata/sluice/runtime"
)

// GET /connectors[?expand=status&expand=info] (§3.3).
func (s *server) listConnectors(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	names, err := await(ctx, s.h.Connectors)
	if err != nil {
		return err
	}
	if names == nil {
		names = []string{}
	}
	expand, ok := r.URL.Query()["expand"]
	if !ok {
		writeJSON(w, http.StatusOK, names)
		return nil
	}
	out := make(map[string]*expansion, len(names))
names:
	for _, name := range names {
		e := &expansion{}
		for _, x := range expand {
			var v any
			var err error
			switch x {
			case "status":
				v, err = s.connectorStatus(ctx, name)
			case "info":
				v, err = s.connectorInfo(ctx, name)
			default:
				continue // Kafka ignores unknown expansions
			}
			if errors.Is(err, runtime.ErrNotFound) {
				// Deleted meanwhile, or no status yet: left out (§3.3).
				continue names
			}
			if err != nil {
				return err
			}
			e.set(x, v)
		}
		out[name] = e
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// expansion is one connector's entry of an expanded listing: its keys in
// the order Kafka's HashMap yields them ("status" and "info" share a
// bucket, so the order they were asked for).
type expansion struct {
	keys []string
	vals []any
}

func (e *expansion) set(k string, v any) {
	if i := slices.Index(e.keys, k); i >= 0 {
		e.vals[i] = v
		return
	}
	e.keys = append(e.keys, k)
	e.vals = append(e.vals, v)
}

func (e *expansion) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range e.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(k))
		b.WriteByte(':')
		v, err := json.Marshal(e.vals[i])
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func (s *server) connectorInfo(ctx context.Context, name string) (runtime.ConnectorInfo, error) {
	info, err := await(ctx, func(ctx context.Context) (runtime.ConnectorInfo, error) {
		return s.h.ConnectorInfo(ctx, name)
	})
	return normalizeInfo(info), err
}

func (s *server) connectorStatus(ctx context.Context, name string) (runtime.ConnectorStateInfo, error) {
	st, err := await(ctx, func(ctx context.Context) (runtime.ConnectorStateInfo, error) {
		return s.h.ConnectorStatus(ctx, name)
	})
	if st.Tasks == nil {
		st.Tasks = []runtime.TaskState{}
	}
	return st, err
}

// normalizeInfo makes empty collections [] and {} rather than null.
func normalizeInfo(info runtime.ConnectorInfo) runtime.ConnectorInfo {
	if info.Config == nil {
		info.Config = map[string]string{}
	}
	if info.Tasks == nil {
		info.Tasks = []runtime.TaskID{}
	}
	return info
}

// POST /connectors (§3.4).
func (s *server) createConnector(w http.ResponseWriter, r *http.Request) error {
	raw, err := readJSON(r)
	if err != nil {
		return err
	}
	req, err := decodeCreateRequest(raw)
	if err != nil {
		return err
	}
	name := ""
	if req.name != nil {
		name = javaTrim(*req.name)
	}
	config, nulls, err := checkAndPutName(name, req.config)
	if err != nil {
		return err
	}
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	if len(nulls) > 0 {
		return s.nullValuesError(ctx, config, nulls)
	}
	initial := req.initial
	if initial == "" {
		initial = runtime.TargetStarted // Kafka: no target-state record, which means STARTED
	}
	info, err := await(ctx, func(ctx context.Context) (runtime.ConnectorInfo, error) {
		return s.h.CreateConnector(ctx, name, config, initial)
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", location(r, name))
	writeJSON(w, http.StatusCreated, normalizeInfo(info))
	return nil
}

// javaTrim is Java's String.trim: it drops leading and trailing chars up
// to U+0020 (spaces and control characters, not other Unicode spaces).
func javaTrim(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
}

// checkAndPutName is Kafka's checkAndPutConnectorConfigName: a "name" in
// the config must equal the connector's name (400 otherwise); a missing
// or null one is set. It returns the config without null values, and the
// keys that were null.
func checkAndPutName(name string, m map[string]*string) (map[string]string, []string, error) {
	if included := m["name"]; included != nil && *included != name {
		return nil, nil, runtime.Errorf(runtime.ErrBadRequest,
			"Connector name configuration (%s) doesn't match connector name in the URL (%s)", *included, name)
	}
	config, nulls := splitNulls(m)
	config["name"] = name
	nulls = slices.DeleteFunc(nulls, func(k string) bool { return k == "name" })
	return config, nulls, nil
}

// splitNulls returns m's non-null entries and its null keys, sorted.
func splitNulls(m map[string]*string) (map[string]string, []string) {
	config := make(map[string]string, len(m))
	var nulls []string
	for k, v := range m {
		if v == nil {
			nulls = append(nulls, k)
			continue
		}
		config[k] = *v
	}
	slices.Sort(nulls)
	return config, nulls
}

// msgNullValue is the validation error of a key whose value is JSON null.
const msgNullValue = "Null value can not be supplied as the configuration value."

// nullValuesError is the answer to a create or update whose config has
// JSON null values: Kafka validates them as errors, so the request fails
// with the validation message (or whatever validation itself fails with).
func (s *server) nullValuesError(ctx context.Context, config map[string]string, nulls []string) error {
	infos, err := await(ctx, func(ctx context.Context) (connectors.ConfigInfos, error) {
		return s.h.Validate(ctx, config)
	})
	if err != nil {
		return err
	}
	infos = addNullErrors(infos, nulls)
	return runtime.Errorf(runtime.ErrBadRequest, "%s", infos.InvalidMessage())
}

// addNullErrors adds Kafka's null-value error to each of keys in a
// validation result made without them (the Herder's contract has no
// nulls), as AbstractHerder.validateConnectorConfig does.
func addNullErrors(infos connectors.ConfigInfos, keys []string) connectors.ConfigInfos {
	var unknown []connectors.ConfigInfo
	for _, k := range keys {
		found := false
		for i := range infos.Configs {
			ci := &infos.Configs[i]
			switch {
			case ci.Value != nil && ci.Value.Name == k:
			case ci.Value == nil && ci.Definition != nil && ci.Definition.Name == k:
				ci.Value = &connectors.ConfigValueInfo{Name: k, RecommendedValues: []string{}, Errors: []string{}, Visible: true}
			default:
				continue
			}
			ci.Value.Value = nil
			ci.Value.Errors = append(ci.Value.Errors, msgNullValue)
			found = true
			break
		}
		if !found {
			unknown = append(unknown, connectors.ConfigInfo{Value: &connectors.ConfigValueInfo{
				Name: k, RecommendedValues: []string{}, Errors: []string{msgNullValue}, Visible: true,
			}})
		}
		infos.ErrorCount++
	}
	infos.Configs = append(unknown, infos.Configs...)
	return infos
}

// location is the Location of a created connector: the absolute URL of
// /connectors/<name>, the name percent-encoded (Jersey resolves the
// relative URI Kafka gives against the request's base URI).
func location(r *http.Request, name string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/connectors/" + escapeSegment(name)
}

// escapeSegment percent-encodes s as one path segment: RFC 3986 pchar
// characters stay, everything else (including '/', '%' and non-ASCII) is
// encoded.
func escapeSegment(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isPchar(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func isPchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=:@", c) >= 0
}

// GET /connectors/{c} (§3.5).
func (s *server) getConnector(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	info, err := s.connectorInfo(ctx, pathParam(r, "connector"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, info)
	return nil
}

// DELETE /connectors/{c} (§3.6).
func (s *server) deleteConnector(w http.ResponseWriter, r *http.Request) error {
	name := pathParam(r, "connector")
	return s.noBody(w, r, http.StatusNoContent, func(ctx context.Context) error {
		return s.h.DeleteConnector(ctx, name)
	})
}

// noBody calls f with the request budget and answers status with no body.
func (s *server) noBody(w http.ResponseWriter, r *http.Request, status int, f func(context.Context) error) error {
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	_, err := await(ctx, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, f(ctx)
	})
	if err != nil {
		return err
	}
	writeEmpty(w, status)
	return nil
}

// GET /connectors/{c}/config (§3.7).
func (s *server) getConnectorConfig(w http.ResponseWriter, r *http.Request) error {
	name := pathParam(r, "connector")
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	config, err := await(ctx, func(ctx context.Context) (map[string]string, error) {
		return s.h.ConnectorConfig(ctx, name)
	})
	if err != nil {
		return err
	}
	if config == nil {
		config = map[string]string{}
	}
	writeJSON(w, http.StatusOK, config)
	return nil
}

// PUT /connectors/{c}/config (§3.8): 201 + Location when created, 200 when
// replaced.
func (s *server) putConnectorConfig(w http.ResponseWriter, r *http.Request) error {
	name := pathParam(r, "connector")
	raw, err := readJSON(r)
	if err != nil {
		return err
	}
	m, err := decodeStringMap(raw)
	if err != nil {
		return err
	}
	config, nulls, err := checkAndPutName(name, m)
	if err != nil {
		return err
	}
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	if len(nulls) > 0 {
		return s.nullValuesError(ctx, config, nulls)
	}
	type result struct {
		info    runtime.ConnectorInfo
		created bool
	}
	res, err := await(ctx, func(ctx context.Context) (result, error) {
		info, created, err := s.h.PutConnectorConfig(ctx, name, config)
		return result{info, created}, err
	})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if res.created {
		status = http.StatusCreated
		w.Header().Set("Location", location(r, name))
	}
	writeJSON(w, status, normalizeInfo(res.info))
	return nil
}

// PATCH /connectors/{c}/config (§3.9): a null value removes the key;
// always 200.
func (s *server) patchConnectorConfig(w http.ResponseWriter, r *http.Request) error {
	name := pathParam(r, "connector")
	raw, err := readJSON(r)
	if err != nil {
		return err
	}
	patch, err := decodeStringMap(raw)
	if err != nil {
		return err
	}
	if patch == nil {
		patch = map[string]*string{}
	}
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	info, err := await(ctx, func(ctx context.Context) (runtime.ConnectorInfo, error) {
		return s.h.PatchConnectorConfig(ctx, name, patch)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, normalizeInfo(info))
	return nil
}

// GET /connectors/{c}/status (§3.10).
func (s *server) getConnectorStatus(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	st, err := s.connectorStatus(ctx, pathParam(r, "connector"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *server) taskConfigs(r *http.Request) ([]runtime.TaskInfo, error) {
	name := pathParam(r, "connector")
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	tasks, err := await(ctx, func(ctx context.Context) ([]runtime.TaskInfo, error) {
		return s.h.TaskConfigs(ctx, name)
	})
	if tasks == nil {
		tasks = []runtime.TaskInfo{}
	}
	return tasks, err
}

// GET /connectors/{c}/tasks (§3.11).
func (s *server) getTaskConfigs(w http.ResponseWriter, r *http.Request) error {
	tasks, err := s.taskConfigs(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, tasks)
	return nil
}

// GET /connectors/{c}/tasks-config (§3.12, deprecated): task configs keyed
// by "<connector>-<task>".
func (s *server) getTasksConfig(w http.ResponseWriter, r *http.Request) error {
	s.log.Warn("The 'GET /connectors/{connector}/tasks-config' endpoint is deprecated and will be removed in the next major release. " +
		"Please use the 'GET /connectors/{connector}/tasks' endpoint instead.")
	tasks, err := s.taskConfigs(r)
	if err != nil {
		return err
	}
	out := make(map[string]map[string]string, len(tasks))
	for _, t := range tasks {
		out[t.ID.String()] = t.Config
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// GET /connectors/{c}/tasks/{t}/status (§3.13).
func (s *server) getTaskStatus(w http.ResponseWriter, r *http.Request) error {
	id, err := taskID(r)
	if err != nil {
		return err
	}
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	st, err := await(ctx, func(ctx context.Context) (runtime.TaskState, error) {
		return s.h.TaskStatus(ctx, id)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// POST /connectors/{c}/tasks/{t}/restart (§3.14): 204.
func (s *server) restartTask(w http.ResponseWriter, r *http.Request) error {
	id, err := taskID(r)
	if err != nil {
		return err
	}
	return s.noBody(w, r, http.StatusNoContent, func(ctx context.Context) error {
		return s.h.RestartTask(ctx, id)
	})
}

// POST /connectors/{c}/restart?includeTasks=&onlyFailed= (§3.15): 204
// with both false, else 202 with the status showing RESTARTING.
func (s *server) restartConnector(w http.ResponseWriter, r *http.Request) error {
	name := pathParam(r, "connector")
	includeTasks := queryBool(r, "includeTasks", false)
	onlyFailed := queryBool(r, "onlyFailed", false)
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	st, err := await(ctx, func(ctx context.Context) (*runtime.ConnectorStateInfo, error) {
		return s.h.RestartConnector(ctx, name, includeTasks, onlyFailed)
	})
	if err != nil {
		return err
	}
	if !includeTasks && !onlyFailed {
		writeEmpty(w, http.StatusNoContent)
		return nil
	}
	if st == nil {
		return restError(errInternal, fmt.Sprintf("runtime: restart of %s returned no status", name))
	}
	if st.Tasks == nil {
		st.Tasks = []runtime.TaskState{}
	}
	writeJSON(w, http.StatusAccepted, st)
	return nil
}

// PUT /connectors/{c}/pause (§3.16): 202, empty body.
func (s *server) pauseConnector(w http.ResponseWriter, r *http.Request) error {
	name := pathParam(r, "connector")
	return s.noBody(w, r, http.StatusAccepted, func(ctx context.Context) error {
		return s.h.PauseConnector(ctx, name)
	})
}

// PUT /connectors/{c}/resume (§3.17): 202, empty body.
func (s *server) resumeConnector(w http.ResponseWriter, r *http.Request) error {
	name := pathParam(r, "connector")
	return s.noBody(w, r, http.StatusAccepted, func(ctx context.Context) error {
		return s.h.ResumeConnector(ctx, name)
	})
}

// PUT /connectors/{c}/stop (§3.18): 204.
func (s *server) stopConnector(w http.ResponseWriter, r *http.Request) error {
	name := pathParam(r, "connector")
	return s.noBody(w, r, http.StatusNoContent, func(ctx context.Context) error {
		return s.h.StopConnector(ctx, name)
	})
}

// activeTopics is ActiveTopicsInfo as Kafka serializes it (§2.8).
type activeTopics struct {
	Topics []string `json:"topics"`
}

// GET /connectors/{c}/topics (§3.19): an unknown connector has no topics.
func (s *server) getActiveTopics(w http.ResponseWriter, r *http.Request) error {
	name := pathParam(r, "connector")
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	topics, err := await(ctx, func(ctx context.Context) ([]string, error) {
		return s.h.ActiveTopics(ctx, name)
	})
	if err != nil {
		return err
	}
	if topics == nil {
		topics = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]activeTopics{name: {Topics: topics}})
	return nil
}

// PUT /connectors/{c}/topics/reset (§3.20): 202, empty body.
func (s *server) resetActiveTopics(w http.ResponseWriter, r *http.Request) error {
	name := pathParam(r, "connector")
	return s.noBody(w, r, http.StatusAccepted, func(ctx context.Context) error {
		return s.h.ResetActiveTopics(ctx, name)
	})
}

// GET /connectors/{c}/offsets (§3.21).
func (s *server) getOffsets(w http.ResponseWriter, r *http.Request) error {
	name := pathParam(r, "connector")
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	offsets, err := await(ctx, func(ctx context.Context) (runtime.ConnectorOffsets, error) {
		return s.h.Offsets(ctx, name)
	})
	if err != nil {
		return err
	}
	if offsets.Offsets == nil {
		offsets.Offsets = []runtime.ConnectorOffset{}
	}
	writeJSON(w, http.StatusOK, offsets)
	return nil
}

// message is Kafka's Message entity (§2.10).
type message struct {
	Message string `json:"message"`
}

const msgNoOffsets = "Partitions / offsets need to be provided for an alter offsets request"

// PATCH /connectors/{c}/offsets (§3.22): JSON errors (500) first, then a
// null or empty offsets list (400), then the herder's checks.
func (s *server) alterOffsets(w http.ResponseWriter, r *http.Request) error {
	name := pathParam(r, "connector")
	raw, err := readJSON(r)
	if err != nil {
		return err
	}
	offsets, present, err := decodeOffsets(raw)
	if err != nil {
		return err
	}
	if !present || len(offsets.Offsets) == 0 {
		return runtime.Errorf(runtime.ErrBadRequest, "%s", msgNoOffsets)
	}
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	msg, err := await(ctx, func(ctx context.Context) (string, error) {
		return s.h.AlterOffsets(ctx, name, offsets)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, message{msg})
	return nil
}

// DELETE /connectors/{c}/offsets (§3.23).
func (s *server) resetOffsets(w http.ResponseWriter, r *http.Request) error {
	name := pathParam(r, "connector")
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	msg, err := await(ctx, func(ctx context.Context) (string, error) {
		return s.h.ResetOffsets(ctx, name)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, message{msg})
	return nil
}

// POST /connectors/{c}/tasks (§3.30, internal): the task configs the
// worker running connector c generated, for the leader to store. Under
// connect.protocol=sessioned the body must be signed with the cluster's
// session key (checked on every worker, before any forwarding).
func (s *server) putTaskConfigs(w http.ResponseWriter, r *http.Request) error {
	name := pathParam(r, "connector")
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
		if err != nil {
			return restError(errBadJSON, "Failed to read the request body: "+err.Error())
		}
		body = b
	}
	if err := s.h.VerifyInternalRequest(body, r.Header.Get(runtime.HeaderSignature), r.Header.Get(runtime.HeaderSignatureAlgorithm)); err != nil {
		return err
	}
	raw, err := firstJSONValue(body)
	if err != nil {
		return err
	}
	configs, err := decodeTaskConfigs(raw)
	if err != nil {
		return err
	}
	return s.noBody(w, r, http.StatusNoContent, func(ctx context.Context) error {
		return s.h.PutTaskConfigs(ctx, name, configs)
	})
}
