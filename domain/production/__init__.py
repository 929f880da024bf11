"""Production models and posts: publishing and unpublishing them, and the public read side."""
