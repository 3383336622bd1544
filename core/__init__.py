"""Wardens core: stations, people, groups, tasks, points and the plugin platform (no HTTP)."""
