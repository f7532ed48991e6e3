//! `nccnav DB path` and `nccnav DB graph` on the fixture database.
