"""Test helper for tests/object_stores.rs: create a bucket or container on a local emulator,
upload a folder into it, or print one object. Uses the clouds' own SDKs, so that what the
tests read was written by a client foci-hunt shares no code with.

    objects.py s3|azure PORT BUCKET create
    objects.py s3|azure PORT BUCKET upload LOCAL_DIR PREFIX
    objects.py s3|azure PORT BUCKET get KEY
"""
import os
import sys

# The Azure Storage emulator's documented development account (public, not a secret).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def s3_client(port):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )


def azure_container(port, name):
    from azure.storage.blob import BlobServiceClient

    connection = (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{port}/{AZURITE_ACCOUNT};"
    )
    return BlobServiceClient.from_connection_string(connection).get_container_client(name)


def files(local_dir):
    for root, _, names in os.walk(local_dir):
        for name in sorted(names):
            path = os.path.join(root, name)
            yield path, os.path.relpath(path, local_dir).replace(os.sep, "/")


def main(cloud, port, bucket, action, *rest):
    if cloud == "s3":
        client = s3_client(port)
        if action == "create":
            client.create_bucket(Bucket=bucket)
        elif action == "upload":
            local_dir, prefix = rest
            for path, key in files(local_dir):
                client.upload_file(path, bucket, f"{prefix}/{key}")
        elif action == "get":
            sys.stdout.buffer.write(client.get_object(Bucket=bucket, Key=rest[0])["Body"].read())
    elif cloud == "azure":
        container = azure_container(port, bucket)
        if action == "create":
            container.create_container()
        elif action == "upload":
            local_dir, prefix = rest
            for path, key in files(local_dir):
                with open(path, "rb") as data:
                    container.upload_blob(f"{prefix}/{key}", data, overwrite=True)
        elif action == "get":
            sys.stdout.buffer.write(container.download_blob(rest[0]).readall())
    else:
        raise SystemExit(f"unknown cloud {cloud}")


if __name__ == "__main__":
    main(*sys.argv[1:])
