# tests/tools/local.mk -- (filled in by the part of the tree that owns it)
