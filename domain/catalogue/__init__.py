"""Catalogue sync: the key rules, the listing of a bucket in parts and key ranges, the diff and
write of each model folder, the deletion guard, sync runs and their confirmation, the schedule."""
