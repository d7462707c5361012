ALTER TABLE `servers` ADD `rev` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE TRIGGER `servers_rev_au` AFTER UPDATE OF slug, name, title, description, version, repository_url, website_url, packages, remotes, status, first_seen, last_probe_id, last_ok_probe_at ON `servers`
WHEN old.slug IS NOT new.slug OR old.name IS NOT new.name OR old.title IS NOT new.title OR old.description IS NOT new.description
  OR old.version IS NOT new.version OR old.repository_url IS NOT new.repository_url OR old.website_url IS NOT new.website_url
  OR old.packages IS NOT new.packages OR old.remotes IS NOT new.remotes OR old.status IS NOT new.status
  OR old.first_seen IS NOT new.first_seen OR old.last_probe_id IS NOT new.last_probe_id OR old.last_ok_probe_at IS NOT new.last_ok_probe_at
BEGIN
  UPDATE `servers` SET `rev` = `rev` + 1 WHERE `id` = new.id;
END;--> statement-breakpoint
CREATE TRIGGER `sources_rev_ai` AFTER INSERT ON `sources` BEGIN
  UPDATE `servers` SET `rev` = `rev` + 1 WHERE `id` = new.server_id;
END;--> statement-breakpoint
CREATE TRIGGER `sources_rev_au` AFTER UPDATE OF source_id, source_key, server_id, status, first_seen, popularity ON `sources`
WHEN old.source_id IS NOT new.source_id OR old.source_key IS NOT new.source_key OR old.server_id IS NOT new.server_id
  OR old.status IS NOT new.status OR old.first_seen IS NOT new.first_seen OR old.popularity IS NOT new.popularity
BEGIN
  UPDATE `servers` SET `rev` = `rev` + 1 WHERE `id` IN (old.server_id, new.server_id);
END;--> statement-breakpoint
CREATE TRIGGER `sources_rev_ad` AFTER DELETE ON `sources` BEGIN
  UPDATE `servers` SET `rev` = `rev` + 1 WHERE `id` = old.server_id;
END;--> statement-breakpoint
CREATE TRIGGER `changes_rev_ai` AFTER INSERT ON `changes` BEGIN
  UPDATE `servers` SET `rev` = `rev` + 1 WHERE `id` = new.server_id;
END;--> statement-breakpoint
CREATE TRIGGER `changes_rev_ad` AFTER DELETE ON `changes` BEGIN
  UPDATE `servers` SET `rev` = `rev` + 1 WHERE `id` = old.server_id;
END;
