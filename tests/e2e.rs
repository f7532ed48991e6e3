mod fixture;
mod kernel;
mod robust;
