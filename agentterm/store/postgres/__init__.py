"""The PostgreSQL backend: a store on a server, for teams and for several machines."""
