-- Run once, by the postgres image, when its volume is new: one database per store, owned by the
-- application role (POSTGRES_USER), so each service can migrate its own at start.
CREATE DATABASE chat;
CREATE DATABASE tasks;
CREATE DATABASE items;
