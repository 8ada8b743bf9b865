// Package configprovider resolves externalised configuration values, as
// Kafka's ConfigProvider and ConfigTransformer do (KIP-297, KIP-421): a
// connector or worker config may hold placeholders
//
//	${provider:path:key}   e.g. ${file:/etc/kafka/secrets.properties:db.password}
//	${provider:key}        e.g. ${env:DB_PASSWORD} (path is "")
//
// that Resolve replaces with values fetched from the named provider when a
// connector starts, so secrets never sit in the config topic or the REST
// responses.
//
// Three providers are built in, under Kafka's class names:
//
//	FileConfigProvider       path = a .properties file, key = a property
//	DirectoryConfigProvider  path = a directory, key = a file name, value = its content
//	EnvVarConfigProvider     path must be empty, key = an environment variable
//
// The worker enables them with Kafka's keys (FromWorkerConfig):
//
//	config.providers=file,env
//	config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider
//	config.providers.file.param.allowed.paths=/etc/kafka
//	config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider
//
// Differences from Kafka, on purpose: a placeholder whose provider exists
// but whose key is missing is an error naming the config key and the
// placeholder (Kafka silently keeps the placeholder text, which then
// reaches the connector as a literal password); a path outside
// allowed.paths is an error rather than an empty result. A placeholder
// naming an unknown provider is left as is, as in Kafka. TTLs and change
// subscriptions (config.action.reload) are not implemented.
//
// Nothing in this package logs, and no error message contains a resolved
// value: errors name config keys, providers, paths and keys only.
package configprovider
