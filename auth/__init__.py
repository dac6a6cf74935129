"""Staff authentication: password hashing and the admin sign-in backend."""
