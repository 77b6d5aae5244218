// placeholder: the SPA lives here
