// Package rest serves Kafka Connect's REST API (3.9 level) over a
// runtime.Herder, so that existing clients, UIs, Terraform providers and
// curl recipes cannot tell Sluice from Apache Kafka Connect.
//
// The spec is ../shared/spec/connect-rest.md; section numbers in comments
// refer to it. The package is the HTTP edge only: it routes, decodes request
// bodies the way Kafka's Jackson/Jersey stack does, calls one Herder method
// per request with Kafka's 90 s budget, and encodes the contract types of
// runtime/api.go as they are (their JSON tags and field order are Kafka's).
//
// Files:
//
//	server.go      New, Options, middleware (logging, CORS, extra headers,
//	               trailing slashes, media types), the timeout helper
//	routes.go      the route table, 404/405/OPTIONS
//	errors.go      the one error → status table (STYLE §8) and error bodies
//	decode.go      request body decoding with Jackson's rules and messages
//	connectors.go  /connectors/...
//	plugins.go     /connector-plugins/...
//	loggers.go     /admin/loggers/...
//	root.go        GET /, GET /health
//	headers.go     response.http.headers.config rules
//	forward.go     distributed mode: forwarding to the leader or owner (§4),
//	               retries through rebalances before a 409
//
// Statuses of errors are decided only in errors.go: handlers return errors
// (the Herder's *runtime.Error values, or ones built with the same kinds) and
// never write an error status themselves. Success statuses (200/201/202/204)
// are part of each endpoint's contract and are written by its handler.
//
// In a cluster, endpoints that the leader or a connector's owner must serve
// are wrapped by clustered: the Herder answers a *runtime.RedirectError
// elsewhere, and the request is re-issued to that worker with Kafka's
// ?forward= hop counting; a request that meets a rebalance is retried for
// up to Options.RebalanceRetry before its 409 is answered.
//
// Request bodies and connector configs are never logged: they hold secrets.
package rest
