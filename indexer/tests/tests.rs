mod classify;
mod fuzz;
