DROP TABLE oauth_tokens;
DROP TABLE oauth_grants;
DROP TABLE oauth_users;
DROP TABLE oauth_clients;
