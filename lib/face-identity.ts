/**
 * What a person is in the collection, and so what cameras search for.
 *
 * - `FaceIdentity.faces()` (the default): each enrolment picture is one face in the collection,
 *   and a sighting matches the single closest face (SearchFacesByImage, or a stream processor).
 * - `FaceIdentity.users()`: enrolment also keeps one Rekognition user per external image id (the
 *   person), built from the faces of all of their pictures (at most 100), and frame-sampling
 *   cameras search users (SearchUsersByImage). AWS says searching user vectors "can significantly
 *   improve accuracy". Stream processors cannot search users: every camera needs
 *   `FaceSearchEngine.frameSampling()`.
 */
export class FaceIdentity {
  /** Every picture is a face of its own; cameras search faces (the default). */
  public static faces(): FaceIdentity {
    return new FaceIdentity('faces');
  }

  /** One Rekognition user per person, searched with SearchUsersByImage (frame sampling only). */
  public static users(): FaceIdentity {
    return new FaceIdentity('users');
  }

  /** `faces` or `users`. */
  public readonly mode: string;

  private constructor(mode: string) {
    this.mode = mode;
  }

  /** Whether this is users mode. */
  public get usesUsers(): boolean {
    return this.mode === 'users';
  }
}
