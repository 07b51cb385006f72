import { daily, hourly, multiPartitions, staticPartitions } from '../dsl/index.js';

/** BookMyEvent's partitions: one place so every asset of a cadence shares one definition. */
export const CATALOG_START = '2026-01-01';
export const byDay = daily({ start: CATALOG_START });
export const byHour = hourly({ start: CATALOG_START });
export const AD_PLATFORMS = ['facebook', 'google', 'tiktok', 'twitter'] as const;
export const byDayAndPlatform = multiPartitions({ date: byDay, platform: staticPartitions(AD_PLATFORMS) });
