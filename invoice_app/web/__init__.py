"""HTTP plumbing shared by every blueprint: headers, embedding, errors, logs, health."""
