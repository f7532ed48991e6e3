mod fixture;
mod kernel;
