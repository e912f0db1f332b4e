from django_tasks import task

from hamseda.mail import services


@task(queue_name="mail")
def deliver_message(message_id: int) -> str:
    return services.deliver(message_id)


@task()
def requeue_stranded_messages() -> int:
    return services.requeue_stranded()
