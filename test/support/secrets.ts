/**
 * Link-signing secrets for tests: strong enough for serve and worker to start
 * (src/secrets/secret-strength.ts), fixed so a test can sign a link the server accepts.
 * Made with `openssl rand -base64 32`; for tests only.
 */
export const TEST_UNSUBSCRIBE_SECRET = '4rOkuaj6sH3HdTJdyKFiT6FvRuS4ltOrz+7h28Vr/FE=';
export const TEST_UNSUBSCRIBE_SECRET_OLD = '/QoV7anLWh/NlpHGlSjUyAxuocUiE1VSpvpWJ3unygw=';
export const TEST_SIGNUP_SECRET = 'YKzBzSiZ6/WB2lJ1mM6jHXv57T9eUtTEfE188JWS/yo=';
