//! The navigator in a real terminal: tmux runs nccnav on the fixture database.
