"""The ``STORAGES`` setting, built from plain values (no Django imports).

Settings call these builders; the S3 tests call them too, so the storage the
tests exercise is configured exactly as production's.

Two aliases besides ``staticfiles``:

- ``default``: public media (product images, category icons, thumbnails).
  On S3 its objects sit under ``media/`` and are read through plain URLs (the
  bucket policy, set by the compose init step, allows anonymous reads of that
  prefix only); on disk it is ``MEDIA_ROOT``.
- ``private``: import uploads and exports. On S3 its objects sit under
  ``private/`` (or in their own bucket) with a private ACL and are reached only
  through pre-signed URLs that expire within minutes; on disk it is a folder
  outside ``MEDIA_ROOT`` whose URLs are the permission-checking view. Either way only
  ``backoffice.storage.private_file_response`` hands them out, after checking
  the staff member's permission.
"""

from __future__ import annotations

from pathlib import Path

S3_BACKEND = "storages.backends.s3.S3Storage"
STATICFILES = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}


def local_storages(*, media_root: Path, private_root: Path) -> dict:
    return {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "private": {
            # No public URL: its url() is the permission-checking view.
            "BACKEND": "backoffice.storage.PrivateFileSystemStorage",
            "OPTIONS": {"location": str(private_root)},
        },
        "staticfiles": dict(STATICFILES),
    }


def s3_storages(
    *,
    bucket: str,
    endpoint_url: str = "",
    region: str = "",
    access_key: str = "",
    secret_key: str = "",
    custom_domain: str = "",
    private_bucket: str = "",
    private_expire_seconds: int = 300,
    addressing_style: str = "",
    private_acl: str = "private",
    url_protocol: str = "https:",
) -> dict:
    connection = {
        "endpoint_url": endpoint_url or None,
        "region_name": region or None,
        "access_key": access_key or None,
        "secret_key": secret_key or None,
        # MinIO and most self-hosted stores answer path-style only.
        "addressing_style": addressing_style or ("path" if endpoint_url else None),
        "signature_version": "s3v4",
        # Never silently replace an uploaded file that has the same name.
        "file_overwrite": False,
    }
    return {
        "default": {
            "BACKEND": S3_BACKEND,
            "OPTIONS": {
                **connection,
                "bucket_name": bucket,
                "location": "media",
                # No ACL header: buckets with object ownership enforced (the
                # AWS default) refuse ACLs; public reads come from the bucket
                # policy on the media/ prefix.
                "default_acl": None,
                "querystring_auth": False,
                "custom_domain": custom_domain or None,
                # "http:" only for a local stack whose media host has no TLS.
                "url_protocol": url_protocol,
                "object_parameters": {"CacheControl": "max-age=86400"},
            },
        },
        "private": {
            "BACKEND": S3_BACKEND,
            "OPTIONS": {
                **connection,
                "bucket_name": private_bucket or bucket,
                "location": "private",
                # "private" where the store takes ACLs (MinIO, Yandex); set
                # AWS_PRIVATE_DEFAULT_ACL="" for AWS buckets with ACLs disabled.
                "default_acl": private_acl or None,
                "querystring_auth": True,
                "querystring_expire": private_expire_seconds,
                # A CDN domain would serve without the signature: never for private files.
                "custom_domain": None,
                "object_parameters": {"CacheControl": "private, no-store"},
            },
        },
        "staticfiles": dict(STATICFILES),
    }
